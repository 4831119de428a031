/**
 * Every stdlib method against an independent reference written from its formula
 * (test/helpers/references.ts): loss, advantage and grad.logp, within 1e-5 relative on cpu, on a
 * hand-sized batch with padding, random batches, and edge cases.
 */
import { describe, expect, it } from 'vitest';
import { GROUP, PREFERENCE, TOKEN_LEVEL, type RefBatch, type Reference } from '../helpers/references.js';
import { firstMiss, makeBatch, referenceGrad, runPipeline, stdlibPipeline, type BatchSpec } from '../helpers/stdlib-harness.js';

const TOL = 1e-5;

async function check(name: string, ref: Reference, b: RefBatch): Promise<void> {
  const out = await runPipeline(stdlibPipeline(name), b);
  const want = ref(b, b.logp);
  const loss = out['loss']!.data[0]!;
  // Relative to the loss, or to the scale of its terms when they cancel (float32 rounds at that scale).
  expect(Math.abs(loss - want.loss) <= TOL * Math.max(Math.abs(want.loss), want.scale), `loss ${loss} vs ${want.loss} (scale ${want.scale})`).toBe(true);
  if (want.A !== undefined) {
    // Token-level advantages are compared on completion tokens (what the loss uses).
    const got = out['advantage']!.data;
    const onTokens = got.length === b.mask.length;
    const keep = (x: ArrayLike<number>): number[] => Array.from(x).filter((_, k) => !onTokens || b.mask[k] !== 0);
    expect(firstMiss(keep(got), keep(want.A), TOL, 1e-2, TOL * (want.AScale ?? 0)), 'advantage').toBeNull();
  }
  const g = out['grad.logp']!.data;
  b.mask.forEach((m, k) => {
    if (m === 0) expect(Math.abs(g[k]!), `grad on padding [${k}]`).toBe(0);
  });
  // Central differences of a float64 function carry ~1e-16 |L| / h of noise: allow that much. Where
  // advantages are whitened, the gradient inherits their rounding scale (AScale / max |A|).
  const fd = referenceGrad(ref, b);
  const maxAbs = (x: ArrayLike<number>): number => Array.from(x).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const inherited = want.AScale !== undefined && want.A !== undefined ? (TOL * want.AScale * maxAbs(fd)) / Math.max(maxAbs(want.A), 1e-12) : 0;
  expect(firstMiss(g, fd, TOL, 1e-2, 1e-9 * Math.max(1, want.scale) + inherited), 'grad.logp').toBeNull();
}

const groupCases: Record<string, BatchSpec> = {
  'a hand-sized batch with padding': { B: 2, G: 4, T: 5, seed: 11, lengths: [5, 3, 1, 4, 2, 5, 5, 3] },
  'random batch 1': { B: 3, G: 4, T: 6, seed: 1, reward: (r) => 2 * r() - 1 },
  'random batch 2': { B: 2, G: 6, T: 4, seed: 2, reward: (r) => 3 * r() },
  'all-equal rewards': { B: 2, G: 4, T: 5, seed: 3, reward: () => 1 },
  'rewards in {0, 1}': { B: 3, G: 4, T: 5, seed: 4 },
  'a fully masked row': { B: 2, G: 4, T: 5, seed: 5, lengths: [3, 0, 5, 2, 1, 4, 0, 5], reward: (r) => r() },
  'extreme log-ratios of +-20': { B: 2, G: 4, T: 5, seed: 6, spread: 20, exact: true, reward: (r) => 2 * r() - 1 },
  'extreme log-ratios between 18 and 20': { B: 2, G: 4, T: 5, seed: 16, spread: 20, reward: (r) => 2 * r() - 1 },
  'G = 2': { B: 3, G: 2, T: 5, seed: 7, reward: (r) => r() },
};

const prefCases: Record<string, BatchSpec> = {
  'a hand-sized batch with padding': { B: 3, G: 2, T: 5, seed: 21, lengths: [5, 3, 2, 4, 1, 5] },
  'random batch 1': { B: 4, G: 2, T: 6, seed: 22 },
  'random batch 2': { B: 2, G: 2, T: 3, seed: 23, spread: 2 },
  'a fully masked rejected row': { B: 3, G: 2, T: 4, seed: 24, lengths: [4, 0, 2, 3, 1, 1] },
  'extreme log-ratios between 18 and 20': { B: 3, G: 2, T: 4, seed: 25, spread: 20 },
};
// Sorting (aot, aot_pair) is not differentiable where sums of log-ratios tie, as exact +-20 makes them.
const SORTING = ['aot', 'aot_pair'];

for (const [name, ref] of Object.entries(GROUP)) {
  describe(`${name} against its reference`, () => {
    for (const [label, spec] of Object.entries(groupCases)) {
      it(label, async () => check(name, ref, makeBatch(spec)));
    }
  });
}

for (const [name, ref] of Object.entries(TOKEN_LEVEL)) {
  describe(`${name} against its reference`, () => {
    for (const [label, spec] of Object.entries(groupCases)) {
      it(label, async () => check(name, ref, makeBatch(spec)));
    }
  });
}

for (const [name, ref] of Object.entries(PREFERENCE)) {
  describe(`${name} against its reference`, () => {
    for (const [label, spec] of Object.entries(prefCases)) {
      it(label, async () => check(name, ref, makeBatch(spec)));
    }
    if (!SORTING.includes(name)) it('extreme log-ratios of +-20', async () => check(name, ref, makeBatch({ B: 3, G: 2, T: 4, seed: 26, spread: 20, exact: true })));
  });
}
