/**
 * Standard library II against independent references written from the formulas
 * (test/helpers/references-ii.ts): loss, advantage and grad.logp within 1e-5 relative on cpu, on
 * a hand-sized batch with padding, random batches, and each method's edge cases.
 */
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../runtime/backends/index.js';
import { runPlan } from '../../runtime/exec/executor.js';
import { validateBatch } from '../../runtime/eval/validate.js';
import { evaluate } from '../../runtime/eval/evaluate.js';
import { makeSource, span } from '../../grammar/source.js';
import type { Tensor } from '../../compiler/ops/define.js';
import { bnpo, bnpoAdvantage, bnpoDecomposed, disco, ensembleReward, mdpo, mergeMoments, nft, otcReward, ppoMax, unlikelyGrpo, inpo, egpo, p3o, regGrpo, chi2Ppo, hapoReward, hbpo, type Moments } from '../helpers/references-ii.js';
import { grpo, ppo } from '../helpers/references.js';
import type { RefBatch, Reference } from '../helpers/references.js';
import { entriesFor, firstMiss, makeBatch, referenceGrad, runPipeline, stdlibPipeline, type BatchSpec } from '../helpers/stdlib-harness.js';

const TOL = 1e-5;
type Extra = Parameters<typeof runPipeline>[2];

/** Like runPipeline, without feeding `reward` (so a reward stage that reads declared inputs runs). */
async function runOwnReward(name: string, b: RefBatch, extra: Extra, set: Record<string, string>): Promise<Awaited<ReturnType<typeof runPipeline>>> {
  const p = stdlibPipeline(name);
  const here = span(makeSource('batch', ''), 0, 0);
  const v = validateBatch(p.ir, entriesFor(p, b, extra).filter((e) => e.name !== 'reward'), { set, grad: ['logp'], allowNonfinite: false, fileSpan: here });
  if (v.valid === null) throw new Error(v.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '));
  const { tf } = await useBackend('cpu');
  return evaluate(tf, 'cpu', v.valid, ['logp']);
}

async function check(name: string, ref: Reference, b: RefBatch, extra: Extra = {}, set: Record<string, string> = {}, ownReward = false, gradSlack = 0): Promise<void> {
  const out = ownReward ? await runOwnReward(name, b, extra, set) : await runPipeline(stdlibPipeline(name), b, extra, set);
  const want = ref(b, b.logp);
  const loss = out['loss']!.data[0]!;
  expect(Math.abs(loss - want.loss) <= TOL * Math.max(Math.abs(want.loss), want.scale), `loss ${loss} vs ${want.loss} (scale ${want.scale})`).toBe(true);
  if (want.A !== undefined) {
    const got = out['advantage']!.data;
    const onTokens = got.length === b.mask.length;
    const keep = (x: ArrayLike<number>): number[] => Array.from(x).filter((_, k) => !onTokens || b.mask[k] !== 0);
    expect(firstMiss(keep(got), keep(want.A), TOL, 1e-2, TOL * (want.AScale ?? 0)), 'advantage').toBeNull();
  }
  const g = out['grad.logp']!.data;
  b.mask.forEach((m, k) => {
    if (m === 0) expect(Math.abs(g[k]!), `grad on padding [${k}]`).toBe(0);
  });
  const fd = referenceGrad(ref, b);
  const maxAbs = (x: ArrayLike<number>): number => Array.from(x).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const inherited = want.AScale !== undefined && want.A !== undefined ? (TOL * want.AScale * maxAbs(fd)) / Math.max(maxAbs(want.A), 1e-12) : 0;
  // Plus 1e-6 of the largest gradient entry: float32 rounding where large terms cancel in one
  // token's gradient (MDPO's KL weight reaches total_steps).
  expect(firstMiss(g, fd, TOL, 1e-2, 1e-9 * Math.max(1, want.scale) + inherited + 1e-6 * maxAbs(fd) + gradSlack), 'grad.logp').toBeNull();
}

const common: Record<string, BatchSpec> = {
  'a hand-sized batch with padding': { B: 2, G: 4, T: 5, seed: 11, lengths: [5, 3, 1, 4, 2, 5, 5, 3] },
  'random batch 1': { B: 3, G: 4, T: 6, seed: 1, reward: (r) => r() },
  'random batch 2': { B: 4, G: 6, T: 4, seed: 2 },
  'a fully masked row': { B: 2, G: 4, T: 5, seed: 5, lengths: [3, 0, 5, 2, 1, 4, 0, 5], reward: (r) => r() },
  'extreme log-ratios between 18 and 20': { B: 2, G: 4, T: 5, seed: 16, spread: 20, reward: (r) => r() },
};

describe('bnpo against its reference', () => {
  const cases: Record<string, BatchSpec> = {
    ...common,
    // Every prompt has the same success rate 1/2: v = 0 (the guard: alpha = beta = 1).
    'zero variance of the success rates': { B: 3, G: 4, T: 5, seed: 31, reward: (_, i) => (i % 2 === 0 ? 1 : 0) },
    'all rewards 0': { B: 3, G: 4, T: 5, seed: 32, reward: () => 0 },
    'all rewards 1': { B: 3, G: 4, T: 5, seed: 33, reward: () => 1 },
    'groups all 0 and all 1 beside mixed ones': { B: 4, G: 4, T: 5, seed: 34, reward: (r, i) => (i < 4 ? 0 : i < 8 ? 1 : r() < 0.5 ? 0 : 1) },
    'one prompt (m = 0, v = 1)': { B: 1, G: 6, T: 5, seed: 35 },
    'groups of one sample (p = 0)': { B: 4, G: 1, T: 5, seed: 36, reward: (r) => r() },
  };
  for (const [label, spec] of Object.entries(cases)) it(label, async () => check('bnpo', bnpo, makeBatch(spec)));

  it('gives all-0 and all-1 groups a zero advantage and weights mixed groups by 1 / BetaPDF', () => {
    const r = Float64Array.from([0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0]);
    const A = bnpoAdvantage(r, 4, 4);
    expect(Array.from(A.subarray(0, 8))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // p = (0, 1, 1/4, 1/2): m = 7/16, v = 0.1848958..., alpha = max(1, 1 + k m / 3) with k = m(1-m)/v - 1 > 0.
    expect(A[8]! > 0 && A[9]! < 0).toBe(true);
  });
});

describe('bnpo_decomposed against its reference', () => {
  const C = 2;
  const comps = (B: number, G: number, seed: number): Float64Array => {
    let s = seed;
    return Float64Array.from({ length: B * G * C }, () => ((s = (s * 16807) % 2147483647) % 2 === 0 ? 1 : 0));
  };
  for (const [label, spec] of Object.entries({ 'a hand-sized batch': common['a hand-sized batch with padding']!, 'a random batch': common['random batch 2']! })) {
    it(label, async () => {
      const b = makeBatch(spec);
      const x = comps(b.B, b.G, spec.seed + 7);
      await check('bnpo_decomposed', bnpoDecomposed(x, C), b, { components: { shape: [b.B, b.G, C], data: x } });
    });
  }
  it('with one component equals bnpo', async () => {
    const b = makeBatch({ B: 3, G: 4, T: 5, seed: 41 });
    await check('bnpo_decomposed', bnpo, b, { components: { shape: [b.B, b.G, 1], data: Float64Array.from(b.reward) } });
  });
});

describe('mdpo against its reference', () => {
  const K = 30;
  for (const [label, spec] of Object.entries(common)) {
    it(`${label}, mid-run`, async () => check('mdpo', mdpo(12, K), makeBatch(spec), { step: 12, total_steps: K }));
  }
  it('at step 0 (KL weight 1)', async () => check('mdpo', mdpo(0, K), makeBatch({ B: 3, G: 4, T: 5, seed: 51 }), { step: 0, total_steps: K }));
  it('at the last step (KL weight total_steps)', async () => check('mdpo', mdpo(K - 1, K), makeBatch({ B: 3, G: 4, T: 5, seed: 52 }), { step: K - 1, total_steps: K }));
  it('past the last step (the weight stays at total_steps)', async () => check('mdpo', mdpo(K + 5, K), makeBatch({ B: 2, G: 4, T: 5, seed: 53 }), { step: K + 5, total_steps: K }));
  it('where logp equals old_logp: the KL term and its gradient vanish', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 5, seed: 54 });
    const same = { ...b, logp: Float64Array.from(b.old_logp) };
    await check('mdpo', mdpo(3, K), same, { step: 3, total_steps: K });
  });
});

const binary: Record<string, BatchSpec> = {
  'a hand-sized batch with padding': { B: 2, G: 4, T: 5, seed: 11, lengths: [5, 3, 1, 4, 2, 5, 5, 3], reward: (_, i) => [1, 0, 0, 1, 1, 1, 0, 1][i]! },
  'random batch 1': { B: 3, G: 4, T: 6, seed: 1 },
  'random batch 2': { B: 4, G: 6, T: 4, seed: 2 },
  'a fully masked row': { B: 2, G: 4, T: 5, seed: 5, lengths: [3, 0, 5, 2, 1, 4, 0, 5], reward: (_, i) => i % 3 === 0 ? 1 : 0 },
  'groups with no positives and with no negatives beside mixed ones': { B: 3, G: 4, T: 5, seed: 61, reward: (_, i) => (i < 4 ? 0 : i < 8 ? 1 : i % 2) },
  'no mixed group at all': { B: 2, G: 4, T: 5, seed: 62, reward: (_, i) => (i < 4 ? 0 : 1) },
};

for (const [name, ref] of Object.entries({ disco: disco(), disco_b: disco({ mean: true }) })) {
  describe(`${name} against its reference`, () => {
    for (const [label, spec] of Object.entries(binary)) it(label, async () => check(name, ref, makeBatch(spec)));
    it('with a KL above delta (the detached penalty is active)', async () => check(name, ref, makeBatch({ B: 3, G: 4, T: 5, seed: 63, spread: 0.5 })));
    it('with L-ratio scores and tau = 1', async () => check(name, disco({ mean: name === 'disco_b', ratio: true, tau: 1 }), makeBatch({ B: 3, G: 4, T: 5, seed: 64 }), {}, { ratio_score: 'true', tau: '1' }));
  });
}

describe('nft against its reference', () => {
  for (const [label, spec] of Object.entries(binary)) it(label, async () => check('nft', nft, makeBatch(spec)));
  it('with ratios above 1 / q (the negative proxy clamps at 1)', async () => check('nft', nft, makeBatch({ B: 3, G: 4, T: 5, seed: 65, spread: 3, reward: (_, i) => (i % 4 === 0 ? 1 : 0) })));
  it('with log-ratios beyond 10 (R is capped)', async () => check('nft', nft, makeBatch({ B: 2, G: 4, T: 5, seed: 66, spread: 20, exact: true })));
});

describe('ppo_max', () => {
  for (const [label, spec] of Object.entries(common)) {
    it(`${label}: matches its reference from fresh state`, async () => check('ppo_max', ppoMax({ n: 0, mu: 0, m2: 0 }, ppo), makeBatch(spec)));
  }
  it('a single score (zero variance) is guarded', async () => check('ppo_max', ppoMax({ n: 0, mu: 0, m2: 0 }, ppo), makeBatch({ B: 1, G: 1, T: 5, seed: 71, reward: () => 0.7 })));

  it('carries its running moments over consecutive batches through the library API', async () => {
    const p = stdlibPipeline('ppo_max');
    const { tf } = await useBackend('cpu');
    const here = span(makeSource('batch', ''), 0, 0);
    let want: Moments = { n: 0, mu: 0, m2: 0 };
    let state = new Map<string, Tensor>();
    for (let k = 0; k < 4; k++) {
      const b = makeBatch({ B: 2 + k, G: 3, T: 4, seed: 80 + k, reward: (r) => 3 * r() - 1 + k });
      const v = validateBatch(p.ir, entriesFor(p, b), { set: {}, grad: [], allowNonfinite: false, fileSpan: here });
      expect(v.valid, v.diagnostics.map((d) => d.message).join('; ')).not.toBeNull();
      const feeds = new Map(v.valid!.entries.map((e) => [e.name, tf.tensor(Array.from(e.tensor.data), [...e.tensor.shape], 'float32')] as [string, Tensor]));
      const vals = runPlan(v.valid!.plan, { tf, backend: 'cpu', sizes: v.valid!.sizes, feeds, params: v.valid!.params, state });
      const read = async (name: string): Promise<number> => (await vals.get(v.valid!.plan.outputs.get(name)!)!.data())[0]!;
      const loss = await read('loss');
      const ref = ppoMax(want, ppo)(b, b.logp);
      expect(Math.abs(loss - ref.loss), `step ${k}: loss ${loss} vs ${ref.loss}`).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(ref.loss), ref.scale));
      want = mergeMoments(want, b.reward);
      const got = { n: await read('update.n'), mu: await read('update.mu'), m2: await read('update.m2') };
      expect(got.n).toBe(want.n);
      expect(Math.abs(got.mu - want.mu), `step ${k}: mu`).toBeLessThan(1e-5 * Math.max(1, Math.abs(want.mu)));
      expect(Math.abs(got.m2 - want.m2), `step ${k}: m2`).toBeLessThan(1e-5 * Math.max(1, want.m2));
      const next = new Map<string, Tensor>();
      for (const name of ['n', 'mu', 'm2']) next.set(name, tf.keep(tf.scalar(got[name as keyof Moments])));
      tf.dispose([...state.values(), ...feeds.values(), ...vals.values()]);
      state = next;
    }
    // Four batches of 6, 9, 12, 15 scores.
    expect(want.n).toBe(42);
    tf.dispose([...state.values()]);
  });
});

describe('rm_ensemble against its reference', () => {
  const K = 3;
  const scores = (n: number, seed: number, same = false): Float64Array => {
    let s = seed;
    const next = (): number => ((s = (s * 16807) % 2147483647) / 2147483647);
    return Float64Array.from({ length: n * K }, (_, i) => Math.fround(same ? [0.2, 0.9, 0.4][i % K]! : 4 * next() - 2));
  };
  const settings: [string, Record<string, string>, boolean, number][] = [['mean', {}, false, 0], ['WCO', { wco: 'true' }, true, 0], ['UWO, lambda 0.5', { lambda: '0.5' }, false, 0.5]];
  for (const [mode, set, wco, lambda] of settings) {
    for (const [label, spec] of Object.entries({ 'a hand-sized batch with padding': common['a hand-sized batch with padding']!, 'a random batch': common['random batch 2']!, 'a fully masked row': common['a fully masked row']! })) {
      it(`${mode}: ${label}`, async () => {
        const b = makeBatch(spec);
        const x = scores(b.B * b.G, spec.seed + 3);
        const R = ensembleReward(x, b.B * b.G, K, wco, lambda);
        await check('rm_ensemble', (bb, lp) => grpo({ ...bb, reward: R }, lp), b, { rewards: { shape: [b.B, b.G, K], data: x } }, set, true);
      });
    }
    it(`${mode}: every completion scored alike by the ensemble (A = 0)`, async () => {
      const b = makeBatch({ B: 2, G: 4, T: 5, seed: 91 });
      const x = scores(b.B * b.G, 1, true);
      const R = ensembleReward(x, b.B * b.G, K, wco, lambda);
      await check('rm_ensemble', (bb, lp) => grpo({ ...bb, reward: R }, lp), b, { rewards: { shape: [b.B, b.G, K], data: x } }, set, true);
    });
  }
});

describe('otc_grpo against its reference', () => {
  const cases: [string, BatchSpec, (i: number) => number, (i: number) => number][] = [
    ['a hand-sized batch with padding', common['a hand-sized batch with padding']!, (i) => [0, 2, 1, 3, 0, 0, 4, 1][i]!, (i) => [1, 1, 0, 1, 0, 1, 1, 0][i]!],
    ['a random batch', { B: 3, G: 4, T: 5, seed: 92 }, (i) => (i * 7) % 5, (i) => ((i * 5) % 3 === 0 ? 1 : 0)],
    ['a group with no correct answer', { B: 2, G: 4, T: 5, seed: 93 }, (i) => i % 3, (i) => (i < 4 ? 0 : i % 2)],
    ['the fewest calls among correct answers is 0', { B: 2, G: 4, T: 5, seed: 94 }, (i) => [0, 0, 2, 3, 1, 2, 0, 4][i]!, (i) => [1, 0, 1, 1, 1, 1, 0, 1][i]!],
  ];
  for (const [label, spec, calls, ok] of cases) {
    it(label, async () => {
      const b = makeBatch(spec);
      const N = b.B * b.G;
      const m = Float64Array.from({ length: N }, (_, i) => calls(i));
      const c = Float64Array.from({ length: N }, (_, i) => ok(i));
      const R = otcReward(m, c, b.B, b.G);
      await check('otc_grpo', (bb, lp) => grpo({ ...bb, reward: R }, lp), b, { tool_calls: { shape: [b.B, b.G], data: m }, correctness: { shape: [b.B, b.G], data: c } }, {}, true);
    });
  }
});

describe('unlikely_grpo against its reference', () => {
  for (const [label, spec] of Object.entries(binary)) it(label, async () => check('unlikely_grpo', unlikelyGrpo, makeBatch(spec)));
  it('continuous rewards', async () => check('unlikely_grpo', unlikelyGrpo, makeBatch({ B: 3, G: 5, T: 4, seed: 95, reward: (r) => r() })));
  it('ties in likelihood share the lower rank', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 3, seed: 96, lengths: [3, 3, 3, 3, 3, 3, 3, 3] });
    // Samples 0 and 1 of each group have the same old log-probs.
    const old = Float64Array.from(b.old_logp, (v, k) => (Math.floor(k / b.T) % b.G === 1 ? b.old_logp[k - b.T]! : v));
    await check('unlikely_grpo', unlikelyGrpo, { ...b, old_logp: old });
  });
});

const pairCases: Record<string, BatchSpec> = {
  'a hand-sized batch with padding': { B: 3, G: 2, T: 5, seed: 21, lengths: [5, 3, 2, 4, 1, 5] },
  'random batch 1': { B: 4, G: 2, T: 6, seed: 22 },
  'random batch 2': { B: 2, G: 2, T: 3, seed: 23, spread: 2 },
  'a fully masked rejected row': { B: 3, G: 2, T: 4, seed: 24, lengths: [4, 0, 2, 3, 1, 1] },
};

describe('inpo against its reference', () => {
  for (const [label, spec] of Object.entries(pairCases)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const iter = Float64Array.from(b.logp, (v, k) => (b.mask[k] === 0 ? 1e4 : Math.fround(v + 0.2 * Math.sin(k))));
      await check('inpo', inpo(iter), b, { iter_logp: { shape: [b.B, b.G, b.T], data: iter } });
    });
  }
  it('where the iterate is the policy and the reference (z = 0 when they agree)', async () => {
    const b = makeBatch({ B: 2, G: 2, T: 4, seed: 97 });
    const same = { ...b, ref_logp: Float64Array.from(b.logp) };
    await check('inpo', inpo(Float64Array.from(b.logp)), same, { iter_logp: { shape: [b.B, b.G, b.T], data: Float64Array.from(b.logp) } });
  });
});

describe('egpo against its reference', () => {
  for (const [label, spec] of Object.entries(pairCases)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const pref = Float64Array.from({ length: b.B * b.G }, (_, i) => Math.fround(((i * 37) % 10) / 10));
      await check('egpo', egpo(pref), b, { pref: { shape: [b.B, b.G], data: pref } });
    });
  }
  it('with equal preferences (the target is 0)', async () => {
    const b = makeBatch({ B: 3, G: 2, T: 4, seed: 98 });
    const pref = new Float64Array(b.B * b.G).fill(0.5);
    await check('egpo', egpo(pref), b, { pref: { shape: [b.B, b.G], data: pref } });
  });
});

describe('p3o against its reference', () => {
  for (const [label, spec] of Object.entries(pairCases)) it(label, async () => check('p3o', p3o, makeBatch(spec)));
  it('equal rewards in a pair (A = 0)', async () => check('p3o', p3o, makeBatch({ B: 3, G: 2, T: 4, seed: 99, reward: () => 1 })));
  it('extreme sequence ratios (clipped)', async () => check('p3o', p3o, makeBatch({ B: 3, G: 2, T: 4, seed: 100, spread: 2, reward: (r) => r() })));
});

describe('reg_grpo against its reference', () => {
  for (const [label, spec] of Object.entries(binary)) {
    if (label === 'no mixed group at all') continue;
    it(label, async () => check('reg_grpo', regGrpo, makeBatch(spec)));
  }
  // A = 0 everywhere: sum_G z^2 = (G - 1) (std / (std + eps))^2 is constant up to eps, so the true
  // gradient is O(eps) ~ 1e-5, left by terms of size ~1 that cancel: float32 gets it to ~1e-7.
  it('no mixed group at all (the gradient is O(eps); 1e-6 absolute)', async () => check('reg_grpo', regGrpo, makeBatch(binary['no mixed group at all']!), {}, {}, false, 1e-6));
  it('continuous rewards', async () => check('reg_grpo', regGrpo, makeBatch({ B: 3, G: 5, T: 4, seed: 101, reward: (r) => r() })));
});

describe('chi2_ppo against its reference', () => {
  for (const [label, spec] of Object.entries(common)) it(label, async () => check('chi2_ppo', chi2Ppo(ppo), makeBatch(spec)));
  it('sequence log-ratios beyond 10 (the linear extension)', async () => check('chi2_ppo', chi2Ppo(ppo), makeBatch({ B: 2, G: 2, T: 6, seed: 102, spread: 3, exact: true, lengths: [6, 6, 6, 6] })));
  it('tiny log-ratios (the 1e-4 floor of chi2)', async () => {
    const b = makeBatch({ B: 2, G: 3, T: 4, seed: 103 });
    await check('chi2_ppo', chi2Ppo(ppo), { ...b, ref_logp: Float64Array.from(b.logp) });
  });
});

describe('multi_objective_grpo against its reference', () => {
  for (const [label, spec] of Object.entries({ 'a hand-sized batch': common['a hand-sized batch with padding']!, 'a random batch': common['random batch 2']! })) {
    it(label, async () => {
      const b = makeBatch(spec);
      const H = 3;
      const scores = Float64Array.from({ length: b.B * b.G * H }, (_, i) => Math.fround(((i * 13) % 7) / 7 - 0.3));
      const weights = Float64Array.of(0.5, 0.25, 1);
      const R = Float64Array.from({ length: b.B * b.G }, (_, s) => scores[s * H]! * 0.5 + scores[s * H + 1]! * 0.25 + scores[s * H + 2]!);
      await check('multi_objective_grpo', (bb, lp) => grpo({ ...bb, reward: R }, lp), b, { scores: { shape: [b.B, b.G, H], data: scores }, weights: { shape: [H], data: weights } }, {}, true);
    });
  }
});

describe('hapo over consecutive batches through the library API', () => {
  it('with no history yet: GRPO on correctness, loss, advantage and grad.logp', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 5, seed: 120, lengths: [5, 3, 1, 4, 2, 5, 5, 3] });
    const correct = Float64Array.from([1, 0, 1, 1, 0, 0, 1, 0]);
    const want = hapoReward(b, correct, [0, 1], [Infinity, Infinity]);
    expect(Array.from(want.reward)).toEqual(Array.from(correct));
    await check('hapo', (bb, lp) => grpo({ ...bb, reward: want.reward }, lp), b, { correctness: { shape: [2, 4], data: correct }, prompt: { shape: [2, 2], data: Float64Array.of(1, 0, 0, 1) } }, {}, true);
  });

  it('matches its reference batch after batch, history state included (no correct answer yet, then shorter ones)', async () => {
    const p = stdlibPipeline('hapo');
    const { tf } = await useBackend('cpu');
    const here = span(makeSource('batch', ''), 0, 0);
    const P = 3;
    let hist = [Infinity, Infinity, Infinity];
    let state = new Map<string, Tensor>();
    // Batch 0: prompt 0 has no correct answer (its history stays unset); later batches revisit
    // prompts 0 and 1 with shorter and longer correct answers.
    const plan = [
      { ids: [0, 1], lengths: [5, 3, 2, 4, 3, 5, 1, 4], ok: [0, 0, 0, 0, 1, 0, 1, 1] },
      { ids: [1, 0], lengths: [2, 5, 4, 1, 3, 2, 5, 4], ok: [1, 1, 0, 0, 0, 1, 1, 0] },
      { ids: [0, 2], lengths: [1, 4, 2, 5, 3, 3, 2, 5], ok: [1, 0, 1, 0, 0, 0, 0, 0] },
      { ids: [0, 1], lengths: [5, 2, 3, 1, 4, 5, 2, 1], ok: [1, 1, 0, 0, 1, 0, 0, 1] },
    ];
    for (const [k, step] of plan.entries()) {
      const b = makeBatch({ B: 2, G: 4, T: 5, seed: 110 + k, lengths: step.lengths });
      const correct = Float64Array.from(step.ok);
      const onehot = Float64Array.from({ length: b.B * P }, (_, i) => (step.ids[Math.floor(i / P)] === i % P ? 1 : 0));
      const want = hapoReward(b, correct, step.ids, hist);
      const v = validateBatch(p.ir, entriesFor(p, b, { correctness: { shape: [b.B, b.G], data: correct }, prompt: { shape: [b.B, P], data: onehot } }).filter((e) => e.name !== 'reward'), { set: {}, grad: [], allowNonfinite: false, fileSpan: here });
      expect(v.valid, v.diagnostics.map((d) => d.message).join('; ')).not.toBeNull();
      const feeds = new Map(v.valid!.entries.map((e) => [e.name, tf.tensor(Array.from(e.tensor.data), [...e.tensor.shape], 'float32')] as [string, Tensor]));
      const vals = runPlan(v.valid!.plan, { tf, backend: 'cpu', sizes: v.valid!.sizes, feeds, params: v.valid!.params, state });
      const read = async (name: string): Promise<number[]> => Array.from(await vals.get(v.valid!.plan.outputs.get(name)!)!.data());
      const reward = await read('reward.reward');
      expect(firstMiss(reward, want.reward, 1e-5), `batch ${k}: reward`).toBeNull();
      const ref = grpo({ ...b, reward: want.reward }, b.logp);
      const loss = (await read('loss'))[0]!;
      expect(Math.abs(loss - ref.loss), `batch ${k}: loss ${loss} vs ${ref.loss}`).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(ref.loss), ref.scale));
      expect(firstMiss(await read('advantage.A'), ref.A!, 1e-5, 1e-2, 1e-5 * (ref.AScale ?? 0)), `batch ${k}: advantage`).toBeNull();
      const h = await read('update.h');
      hist = want.next;
      expect(h.map((x) => (x >= 1e9 ? Infinity : x)), `batch ${k}: history`).toEqual(hist);
      const next = new Map<string, Tensor>([['h', tf.keep(tf.tensor(h, [P]))]]);
      tf.dispose([...state.values(), ...feeds.values(), ...vals.values()]);
      state = next;
    }
    // Prompt 0: no correct answer in batch 0, then 2 (batch 1), then 1; prompt 1: 1 (batch 0); prompt 2: none.
    expect(hist).toEqual([1, 1, Infinity]);
    tf.dispose([...state.values()]);
  });
});

describe('hbpo against its reference', () => {
  // G = 8: two samples per budget; variant g -> budget g / 2. Lengths in tokens are small, so the
  // budgets are lowered with --set to make every branch of the reward happen.
  const cases: [string, BatchSpec, number[], number[]][] = [
    ['a hand-sized batch with padding', { B: 2, G: 8, T: 5, seed: 130 }, [1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
    ['a random batch', { B: 3, G: 8, T: 6, seed: 131 }, Array.from({ length: 24 }, (_, i) => ((i * 7) % 3 === 0 ? 0 : 1)), Array.from({ length: 24 }, (_, i) => (i % 11 === 0 ? 0 : 1))],
    ['a group whose samples are all wrong (A = per-budget offsets only)', { B: 2, G: 8, T: 5, seed: 132 }, [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1], Array(16).fill(1)],
  ];
  for (const [label, spec, ok, fmt] of cases) {
    it(label, async () => {
      const b = makeBatch(spec);
      const N = b.B * b.G;
      const variant = Float64Array.from({ length: N }, (_, s) => Math.floor((s % b.G) / 2));
      const feeds = { variant: { shape: [b.B, b.G], data: variant }, correctness: { shape: [b.B, b.G], data: Float64Array.from(ok) }, formatted: { shape: [b.B, b.G], data: Float64Array.from(fmt) } };
      await check('hbpo', hbpo(variant, Float64Array.from(ok), Float64Array.from(fmt)), b, feeds, {}, true);
      // Budgets of 1..4 tokens and l_max 4: over-budget and too-long completions happen too.
      await check('hbpo', hbpo(variant, Float64Array.from(ok), Float64Array.from(fmt), [1, 2, 3, 4], 4), b, feeds, { b0: '1', b1: '2', b2: '3', b3: '4', l_max: '4' }, true);
    });
  }
});
