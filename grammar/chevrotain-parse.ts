/**
 * The parser of files with problems: Chevrotain's lexer and parser, whose error recovery reports
 * every problem it can. Well-formed files never come here (grammar/fast-parse.ts), and the CLI
 * bundle loads this module, with Chevrotain, only when a file needs it (runtime/cli/build.mjs).
 */
import type { IRecognitionException, IToken } from 'chevrotain';
import { AstBuilder } from './cst-to-ast.js';
import { checkDelimiters, MAX_NESTING } from './delimiters.js';
import { findTooDeep, MAX_EXPR_DEPTH } from './depth.js';
import { lex } from './lexer.js';
import type { ParseResult } from './parse.js';
import { parseTokens, RULE_EXPECTATIONS, theParser } from './parser.js';
import type { SyntaxProblem } from './problem.js';
import { span, type SourceFile } from './source.js';

/** `parseFile` through the Chevrotain lexer and parser only (also the reference the fast path is tested against). */
export function parseWithChevrotain(file: SourceFile): ParseResult {
  const lexed = lex(file);
  if (lexed.problems.length > 0) return { ast: null, problems: lexed.problems };
  const delims = checkDelimiters(file, lexed.tokens);
  if (delims.length > 0) return { ast: null, problems: [...lexed.problems, ...delims] };
  let cst;
  try {
    cst = parseTokens(lexed.tokens);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return { ast: null, problems: [...lexed.problems, { code: 'RLP1006', span: span(file, 0, 0), args: { limit: MAX_NESTING } }] };
  }
  const parseProblems = theParser().errors.map((e) => toProblem(file, e));
  if (parseProblems.length > 0) return { ast: null, problems: dedupe(parseProblems) };
  const ast = new AstBuilder(file, lexed.docs).build(cst);
  const deep = findTooDeep(ast);
  if (deep !== null) return { ast: null, problems: [{ code: 'RLP1007', span: deep.span, args: { limit: MAX_EXPR_DEPTH } }] };
  return { ast, problems: [] };
}

function found(t: IToken): string {
  if (t.tokenType.name === 'EOF') return 'end of file';
  return '`' + (t.image.length > 20 ? t.image.slice(0, 20) + '…' : t.image) + '`';
}

function toProblem(file: SourceFile, e: IRecognitionException): SyntaxProblem {
  const t = e.token;
  const at = Number.isFinite(t.startOffset) && t.tokenType.name !== 'EOF'
    ? span(file, t.startOffset, t.startOffset + t.image.length)
    : span(file, file.text.length, file.text.length);
  const rule = e.context.ruleStack[e.context.ruleStack.length - 1] ?? 'file';
  if (e.name === 'NotAllInputParsedException') return { code: 'RLP1002', span: at, args: { found: found(t) } };
  if (e.name === 'MismatchedTokenException') {
    const m = /-->\s*(\S+)\s*<--/.exec(e.message);
    const expected = m === null ? 'something else' : m[1] === 'EOF' ? RULE_EXPECTATIONS['topItem']! : describeExpected(m[1]!);
    return { code: 'RLP1001', span: at, args: { expected, found: found(t) } };
  }
  const expected = RULE_EXPECTATIONS[rule] ?? 'something else';
  return { code: 'RLP1001', span: at, args: { expected, found: found(t) } };
}

function describeExpected(name: string): string {
  const byName: Record<string, string> = { Identifier: 'a name', NumberLit: 'a number', StringLit: 'a string' };
  if (byName[name] !== undefined) return byName[name]!;
  return '`' + name.replace(/^'|'$/g, '').toLowerCase() + '`';
}

function dedupe(ps: SyntaxProblem[]): SyntaxProblem[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.code}@${p.span.start}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
