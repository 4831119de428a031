/** Code frames: Babel's layout for ordinary lines, a bounded window with `...` for long ones. */
import { codeFrameColumns } from '@babel/code-frame';
import { describe, expect, it } from 'vitest';
import { codeFrame, WINDOW } from '../../../compiler/diagnostics/frame.js';
import { renderHuman } from '../../../compiler/diagnostics/render.js';
import { diag } from '../../../compiler/diagnostics/diagnostic.js';
import { lineCol, makeSource, span } from '../../../grammar/source.js';
import { rng } from '../../helpers/random-batch.js';

function babel(text: string, start: number, end: number, message: string | null): string {
  const file = makeSource('f', text);
  const a = lineCol(file, start);
  const b = lineCol(file, Math.max(start, end));
  const loc = b.line === a.line ? { start: a, end: { line: a.line, column: Math.max(b.column, a.column + 1) } } : { start: a };
  return codeFrameColumns(text, loc, { highlightCode: false, linesAbove: 1, linesBelow: 0, ...(message !== null ? { message } : {}) });
}

describe('code frames', () => {
  it('match Babel on short lines, for random spans, tabs and labels', () => {
    const r = rng(11);
    const words = ['x', 'mean(r, over G)', '\t', '  ', '# note', 'loss = a * b', '', '\t\ty = 1'];
    for (let k = 0; k < 300; k++) {
      const lines = Array.from({ length: 1 + Math.floor(r() * 14) }, () => Array.from({ length: Math.floor(r() * 4) }, () => words[Math.floor(r() * words.length)]!).join(' '));
      const text = lines.join('\n');
      const start = Math.floor(r() * (text.length + 1));
      const end = start + Math.floor(r() * 12);
      const message = r() < 0.5 ? null : 'this is `f32[B,T]`';
      const file = makeSource('f', text);
      expect(codeFrame(span(file, start, end), message)).toBe(babel(text, start, Math.min(end, text.length), message));
    }
  });

  it('show at most a window of a 1 MB one-line file around the column, with ... on both sides', () => {
    const text = '{"logp": {"shape": [2], "data": [' + '1,'.repeat(500_000) + 'x]}}';
    const at = text.indexOf('x]');
    const f = codeFrame(span(makeSource('b.json', text), at, at + 1), 'here');
    const [line, marker] = f.split('\n');
    expect(line!.length).toBeLessThan(WINDOW + 20);
    expect(line).toMatch(/^> 1 \| \.\.\.(1,)+x\]\}\}$/);
    expect(marker!.indexOf('^')).toBe(line!.indexOf('x]'));
    expect(marker!.endsWith('^ here')).toBe(true);
  });

  it('windows the middle of a long line with ... at both ends and keeps the line above aligned', () => {
    const long = 'a'.repeat(1000) + 'TARGET' + 'b'.repeat(1000);
    const text = 'c'.repeat(3000) + '\n' + long;
    const at = 3001 + 1000;
    const f = codeFrame(span(makeSource('p.rlp', text), at, at + 6), null);
    const [above, line, marker] = f.split('\n');
    expect(line!.startsWith('> 2 | ...a')).toBe(true);
    expect(line!.endsWith('b...')).toBe(true);
    expect(above!.length).toBe(line!.length);
    expect(marker!.slice(marker!.indexOf('^'))).toBe('^^^^^^');
    expect(line!.slice(marker!.indexOf('^'), marker!.indexOf('^') + 6)).toBe('TARGET');
  });

  it('keeps a rendered diagnostic of a 5 MB one-line batch small', () => {
    const text = '[' + '0.5,'.repeat(1_300_000) + ']';
    const d = diag('RLP6009', span(makeSource('big.json', text), text.length - 2, text.length - 1), { what: 'trailing comma' });
    expect(renderHuman(d, false).length).toBeLessThan(600);
  });
});
