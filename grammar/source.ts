/** A source file and the spans that point into it. */

/** One loaded source file: its path (as shown to users) and its text. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
  /** Offsets at which each line starts (line 1 starts at 0). */
  readonly lineStarts: readonly number[];
}

/** A half-open character range [start, end) inside one source file. */
export interface Span {
  readonly file: SourceFile;
  readonly start: number;
  readonly end: number;
}

/** A 1-based line and column. */
export interface LineCol {
  readonly line: number;
  readonly column: number;
}

/** Create a SourceFile, indexing its line starts. */
export function makeSource(path: string, text: string): SourceFile {
  const lineStarts = [0];
  // indexOf, not a loop over every character: this runs on every file of a cold start.
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  return { path, text, lineStarts };
}

/** Make a span, clamping both ends into the file. */
export function span(file: SourceFile, start: number, end: number): Span {
  const len = file.text.length;
  const s = Math.max(0, Math.min(start, len));
  return { file, start: s, end: Math.max(s, Math.min(end, len)) };
}

/** The smallest span covering both arguments (which must share a file). */
export function joinSpans(a: Span, b: Span): Span {
  return { file: a.file, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

/** Convert an offset to a 1-based line and column. */
export function lineCol(file: SourceFile, offset: number): LineCol {
  const starts = file.lineStarts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
}

/** The text of a span. */
export function spanText(s: Span): string {
  return s.file.text.slice(s.start, s.end);
}
