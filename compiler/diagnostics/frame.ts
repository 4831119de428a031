/**
 * Code frames: the line a span starts on and the line above it, rustc/Babel style, windowed to
 * at most WINDOW columns around the span so that a long line (a one-line JSON batch, a generated
 * program) prints a bounded frame. Only the shown slice of a line is ever copied.
 */
import { lineCol, type SourceFile, type Span } from '../../grammar/source.js';

/** The most columns of one source line a frame shows. */
export const WINDOW = 120;
/** How many columns of a windowed line are shown before the span's start. */
const LEAD = 40;
const ELLIPSIS = '...';

/** Offsets [start, end) of line `line` (1-based), without its line break. */
function lineBounds(file: SourceFile, line: number): [number, number] {
  const start = file.lineStarts[line - 1] ?? file.text.length;
  const next = file.lineStarts[line];
  let end = next === undefined ? file.text.length : next - 1;
  if (end > start && file.text.charCodeAt(end - 1) === 13) end--;
  return [start, end];
}

/** The columns [from, to) of a line of `length` shown for a mark at `col` (0-based) of `width` carets. */
export function windowFor(length: number, col: number, width: number): [number, number] {
  if (length <= WINDOW) return [0, length];
  const from = Math.max(0, Math.min(col - LEAD, length - WINDOW));
  return [from, Math.min(length, from + WINDOW)];
}

/** One frame: the line above (when there is one) and the span's line with its carets and label. */
export function codeFrame(s: Span, message: string | null): string {
  const file = s.file;
  const start = lineCol(file, s.start);
  const end = lineCol(file, Math.max(s.start, s.end));
  const [ls, le] = lineBounds(file, start.line);
  const col = Math.min(start.column - 1, le - ls);
  const carets = end.line === start.line ? Math.max(end.column - start.column, 1) : 1;
  const [from, to] = windowFor(le - ls, col, carets);
  const width = String(start.line).length;
  const gutter = (n: number): string => ` ${` ${n}`.slice(-width)} |`;
  const shown = (line: number): string => {
    const [a, b] = lineBounds(file, line);
    const text = file.text.slice(a + from, Math.min(b, a + from + WINDOW));
    if (text.length === 0) return '';
    return (from > 0 ? ELLIPSIS : '') + text + (a + from + WINDOW < b ? ELLIPSIS : '');
  };
  const rows: string[] = [];
  if (start.line > 1) {
    const above = shown(start.line - 1);
    rows.push(` ${gutter(start.line - 1)}${above.length > 0 ? ` ${above}` : ''}`);
  }
  const here = shown(start.line);
  const spacing = file.text.slice(ls + from, ls + from + (col - from)).replace(/[^\t]/g, ' ');
  const pad = (from > 0 ? ' '.repeat(ELLIPSIS.length) : '') + spacing;
  const n = Math.max(1, Math.min(carets, to - col));
  let mark = `\n ${gutter(start.line).replace(/\d/g, ' ')} ${pad}${'^'.repeat(n)}`;
  if (message !== null && message !== '') mark += ` ${message}`;
  rows.push(`>${gutter(start.line)}${here.length > 0 ? ` ${here}` : ''}${mark}`);
  return rows.join('\n');
}
