/** Lexing: text to tokens, with precise problems for bad characters, strings, comments, numbers. */
import { Lexer, type IToken } from 'chevrotain';
import { looksLikeUtf16 } from './encoding.js';
import type { SyntaxProblem } from './problem.js';
import { span, type SourceFile } from './source.js';
import { ALL_TOKENS, MalformedNumber, UnterminatedComment, UnterminatedString } from './tokens.js';

/** The lexer's options. Full tracking gives tokens an endOffset, from which the parser records every node's extent. */
export const LEXER_OPTIONS = Object.freeze({ positionTracking: 'full', ensureOptimizations: false } as const);
// The token definitions' checks run in a test (test/grammar/validate.test.ts), not on every start.
// Built on first use: a well-formed file never needs it (grammar/fast-parse.ts).
let lexer: Lexer | undefined;

/** The lexer's result: tokens for the parser, doc comments on the side, and problems. */
export interface LexResult {
  readonly tokens: IToken[];
  readonly docs: readonly IToken[];
  readonly problems: readonly SyntaxProblem[];
}

/** Split a source file into tokens; never throws. */
export function lex(file: SourceFile): LexResult {
  if (looksLikeUtf16(file.text)) return { tokens: [], docs: [], problems: [{ code: 'RLP0005', span: span(file, 0, 0), args: {} }] };
  lexer ??= new Lexer([...ALL_TOKENS], { ...LEXER_OPTIONS, skipValidations: true });
  const out = lexer.tokenize(file.text);
  const problems: SyntaxProblem[] = [];
  for (const e of out.errors) {
    const ch = file.text.slice(e.offset, e.offset + 1);
    const shown = ch === '\t' ? '\\t' : ch === '\0' ? '\\0' : /[\x00-\x1f\x7f]/.test(ch) ? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}` : ch;
    problems.push({ code: 'RLP0001', span: span(file, e.offset, e.offset + Math.max(1, e.length)), args: { char: shown } });
  }
  for (const t of out.groups['errors'] ?? []) {
    const s = span(file, t.startOffset, t.startOffset + t.image.length);
    if (t.tokenType === UnterminatedString) problems.push({ code: 'RLP0002', span: s, args: {} });
    else if (t.tokenType === UnterminatedComment) problems.push({ code: 'RLP0003', span: span(file, t.startOffset, t.startOffset + 2), args: {} });
    else if (t.tokenType === MalformedNumber) problems.push({ code: 'RLP0004', span: s, args: { text: t.image } });
  }
  problems.sort((a, b) => a.span.start - b.span.start);
  return { tokens: out.tokens, docs: out.groups['docs'] ?? [], problems };
}
