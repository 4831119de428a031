/** The front door of the grammar: text -> tokens -> CST -> AST, with problems; never throws on input. */
import type { IRecognitionException, IToken } from 'chevrotain';
import { AstBuilder } from './cst-to-ast.js';
import { forEachChild, type Expr, type FileNode, type Member } from './ast.js';
import { checkDelimiters, MAX_NESTING } from './delimiters.js';
import { lex } from './lexer.js';
import { fastParse } from './fast-parse.js';
import { parseTokens, RULE_EXPECTATIONS, theParser } from './parser.js';
import type { SyntaxProblem } from './problem.js';
import { span, type SourceFile } from './source.js';

/** The deepest expression tree the later phases accept (they recurse over it). */
export const MAX_EXPR_DEPTH = 200;

/** A parsed file: the AST when there were no syntax problems, and the problems. */
export interface ParseResult {
  readonly ast: FileNode | null;
  readonly problems: readonly SyntaxProblem[];
}

/**
 * The largest source file read into tokens, in characters (2 MiB). Tokens and syntax trees take
 * about a hundred times their text in memory, so a larger file is refused before lexing:
 * its size, not its content, bounds the time and memory it costs.
 */
export const MAX_SOURCE_CHARS = 2 * 1024 * 1024;

/** Parse one file. The AST is null whenever there is any lexical or syntax problem. */
export function parseFile(file: SourceFile): ParseResult {
  if (file.text.length > MAX_SOURCE_CHARS) {
    return { ast: null, problems: [{ code: 'RLP0006', span: span(file, MAX_SOURCE_CHARS, MAX_SOURCE_CHARS + 1), args: { limit: MAX_SOURCE_CHARS, size: file.text.length } }] };
  }
  // A well-formed file takes the fast path; anything else goes through Chevrotain, which reports it.
  const fast = parseFast(file);
  return fast !== null ? { ast: fast, problems: [] } : parseWithChevrotain(file);
}

/** The fast path of `parseFile` (grammar/fast-parse.ts): the AST of a file without problems, else null. */
export function parseFast(file: SourceFile): FileNode | null {
  const ast = fastParse(file);
  return ast !== null && findTooDeep(ast) === null ? ast : null;
}

/** `parseFile` through the Chevrotain lexer and parser only (the reference the fast path is tested against). */
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

/** The first expression nested deeper than MAX_EXPR_DEPTH, found without recursion. */
function findTooDeep(ast: FileNode): Expr | null {
  const roots: Expr[] = [];
  const addMembers = (ms: readonly Member[]): void => {
    for (const m of ms) if (m.kind !== 'Binding') roots.push(m.value);
    else if (m.value !== null) roots.push(m.value);
  };
  for (const item of ast.items) {
    if (item.kind === 'Pipeline') for (const b of item.blocks) addMembers(b.members);
    else if (item.kind === 'Fn') addMembers(item.body);
  }
  for (const root of roots) {
    const stack: Array<[Expr, number]> = [[root, 1]];
    while (stack.length > 0) {
      const [e, d] = stack.pop()!;
      if (d > MAX_EXPR_DEPTH) return e;
      // The left operand of a binary operator continues its chain (`a + b + c`): a flat chain is not nesting.
      forEachChild(e, (c) => stack.push([c, e.kind === 'Binary' && c === e.left && c.kind === 'Binary' ? d : d + 1]));
    }
  }
  return null;
}

