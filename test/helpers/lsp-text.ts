/** Positions by search and LSP text edits applied to text, for language-server tests. */
import { readFileSync } from 'node:fs';

/** A zero-based LSP position. */
export interface Pos {
  readonly line: number;
  readonly character: number;
}

/** The position of the `nth` occurrence of `needle` in a file, moved `delta` characters right. */
export function posOf(path: string, needle: string, nth = 0, delta = 0): Pos {
  const text = readFileSync(path, 'utf8');
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`\`${needle}\` occurs fewer than ${nth + 1} times in ${path}`);
  }
  return positionAt(text, at + delta);
}

/** The LSP position of an offset. */
export function positionAt(text: string, offset: number): Pos {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

/** The offset of an LSP position. */
export function offsetAt(text: string, p: Pos): number {
  const lines = text.split('\n');
  let off = 0;
  for (let i = 0; i < p.line; i++) off += (lines[i]?.length ?? 0) + 1;
  return off + p.character;
}

/** Apply LSP text edits (non-overlapping) to a text. */
export function applyEdits(text: string, edits: readonly { range: { start: Pos; end: Pos }; newText: string }[]): string {
  const sorted = [...edits].sort((a, b) => offsetAt(text, b.range.start) - offsetAt(text, a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offsetAt(text, e.range.start)) + e.newText + out.slice(offsetAt(text, e.range.end));
  return out;
}
