/** `--batch` summaries: shape, min / mean / max over the entries the mask keeps, fraction masked, NaN count. */
import { describe, expect, it } from 'vitest';
import { summarize, summaryLine, summaryLines } from '../../../runtime/viz/summaries.js';
import { fusedGraph } from '../../helpers/viz-graphs.js';

const t = (shape: number[], data: number[]) => ({ shape, data: Float64Array.from(data) });

describe('summarize', () => {
  it('summarizes every entry without a mask', () => {
    expect(summarize(t([2, 2], [1, -2, 3, 0]), null)).toEqual({ shape: [2, 2], min: -2, mean: 0.5, max: 3, masked: 0, nan: 0 });
  });

  it('leaves masked entries out and counts NaN only where the mask keeps', () => {
    const s = summarize(t([4], [1, NaN, 100, NaN]), t([4], [1, 1, 0, 0]));
    expect(s).toEqual({ shape: [4], min: 1, mean: 1, max: 1, masked: 0.5, nan: 1 });
    expect(summaryLine(s)).toBe('[4] min 1 mean 1 max 1, 50% masked, 1 NaN');
  });

  it('prints dashes when nothing is kept', () => {
    expect(summaryLine(summarize(t([2], [1, 2]), t([2], [0, 0])))).toBe('[2] min - mean - max -, 100% masked, 0 NaN');
  });

  it('summarizes each output under its own mask, and each fed input', () => {
    const mask = t([1, 1, 2], [1, 0]);
    const lines = summaryLines(fusedGraph(), { 'loss.ratio': t([1, 1, 2], [2, 7]), loss: t([], [2]) }, new Map([['mask', mask], ['logp', t([1, 1, 2], [-1, -3])]]));
    expect(lines.get('loss.ratio')).toBe('[1,1,2] min 2 mean 2 max 2, 50% masked, 0 NaN');
    expect(lines.get('loss')).toBe('[] min 2 mean 2 max 2, 0 NaN');
    expect(lines.get('logp')).toBe('[1,1,2] min -1 mean -1 max -1, 50% masked, 0 NaN');
    expect(lines.has('old_logp')).toBe(false);
  });
});
