/** Where libraries disagree, a param selects the other library's convention (references inline). */
import { describe, expect, it } from 'vitest';
import { groupAdvantage } from '../helpers/references.js';
import { makeBatch, runPipeline, stdlibPipeline } from '../helpers/stdlib-harness.js';

const rel = (a: number, b: number, tol = 1e-5): boolean => Math.abs(a - b) <= tol * Math.max(Math.abs(b), 1e-6);

describe('library conventions selected by params', () => {
  it('grpo: eps = 1e-4 gives TRL advantages', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 4, seed: 3, reward: (r) => r() });
    const out = await runPipeline(stdlibPipeline('grpo'), b, {}, { eps: '1e-4' });
    const want = groupAdvantage(b, 1e-4);
    out['advantage']!.data.forEach((v, i) => expect(rel(v, want[i]!)).toBe(true));
  });

  it('grpo: a group of one gives A = 0 (TRL), or r / (1 + eps) with singleton_verl (verl)', async () => {
    const b = makeBatch({ B: 3, G: 1, T: 4, seed: 4, reward: (r) => 1 + r() });
    const trl = await runPipeline(stdlibPipeline('grpo'), b);
    expect(Array.from(trl['advantage']!.data)).toEqual([0, 0, 0]);
    const verl = await runPipeline(stdlibPipeline('grpo'), b, {}, { singleton_verl: 'true' });
    verl['advantage']!.data.forEach((v, i) => expect(rel(v, b.reward[i]! / (1 + 1e-6))).toBe(true));
    const dr = await runPipeline(stdlibPipeline('dr_grpo'), b, {}, { singleton_verl: 'true' });
    dr['advantage']!.data.forEach((v, i) => expect(rel(v, b.reward[i]!)).toBe(true));
  });

  it('grpo: skip_empty_rows leaves completions without tokens out of the sequence mean (verl)', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 4, seed: 6, lengths: [4, 0, 2, 3, 0, 1, 4, 2], reward: (r) => r() });
    const counted = await runPipeline(stdlibPipeline('grpo'), b);
    const skipped = await runPipeline(stdlibPipeline('grpo'), b, {}, { skip_empty_rows: 'true' });
    expect(counted['loss.seqs']!.data[0]).toBe(8);
    expect(skipped['loss.seqs']!.data[0]).toBe(6);
    expect(rel(skipped['loss']!.data[0]!, (counted['loss']!.data[0]! * 8) / 6)).toBe(true);
  });

  it('ipo: length_normalize = false uses summed log-ratios (OpenRLHF)', async () => {
    const b = makeBatch({ B: 3, G: 2, T: 4, seed: 9 });
    const out = await runPipeline(stdlibPipeline('ipo'), b, {}, { length_normalize: 'false' });
    let want = 0;
    for (let i = 0; i < b.B; i++) {
      const u = (s: number): number => {
        let acc = 0;
        for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) acc += b.logp[s * b.T + t]! - b.ref_logp[s * b.T + t]!;
        return acc;
      };
      want += (u(2 * i) - u(2 * i + 1) - 1 / (2 * 0.1)) ** 2;
    }
    expect(rel(out['loss']!.data[0]!, want / b.B)).toBe(true);
  });

  it('cispo: weight_min / weight_max give verl two-sided clipping of the IS weight', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 4, seed: 10, spread: 0.5, reward: (r) => r() });
    const out = await runPipeline(stdlibPipeline('cispo'), b, {}, { weight_min: '0.8', weight_max: '1.28' });
    const A = groupAdvantage(b);
    let sum = 0;
    let n = 0;
    b.mask.forEach((m, k) => {
      if (m === 0) return;
      const w = Math.min(1.28, Math.max(0.8, Math.exp(b.logp[k]! - b.old_logp[k]!)));
      sum += -w * A[Math.floor(k / b.T)]! * b.logp[k]!;
      n++;
    });
    expect(rel(out['loss']!.data[0]!, sum / n, 1e-4)).toBe(true);
  });
});
