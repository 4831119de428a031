/** Problems found by the front end, before the compiler turns them into diagnostics. */
import type { Span } from './source.js';

/**
 * A syntax-level problem: a diagnostic code and its arguments. The message text lives in the
 * compiler's code table; the grammar only knows codes, so it stays free of presentation.
 */
export interface SyntaxProblem {
  readonly code: string;
  readonly span: Span;
  readonly args: Readonly<Record<string, string | number>>;
}
