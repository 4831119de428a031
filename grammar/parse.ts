/** The front door of the grammar: text -> tokens -> AST, with problems; never throws on input. */
import type { FileNode } from './ast.js';
import { parseWithChevrotain } from './chevrotain-parse.js';
import { findTooDeep } from './depth.js';
import { fastParse } from './fast-parse.js';
import type { SyntaxProblem } from './problem.js';
import { span, type SourceFile } from './source.js';

export { MAX_EXPR_DEPTH } from './depth.js';
export { parseWithChevrotain } from './chevrotain-parse.js';

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
