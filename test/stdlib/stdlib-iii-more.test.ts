/**
 * Standard library III, second part, against independent references written from the formulas
 * (test/helpers/references-iii-more.ts): otb, clip_cov, kl_cov, trl_grpo's options and
 * trl_grpo_multi's two multi-objective orders, bco (with its running-mean state), wpo, xpo,
 * nash_md. Loss, advantage and grad.logp within 1e-5 relative on cpu, on a hand-sized batch with
 * padding, random batches and edge cases; the selections reported as metrics; stop-gradients.
 */
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../runtime/backends/index.js';
import { runPlan } from '../../runtime/exec/executor.js';
import { validateBatch } from '../../runtime/eval/validate.js';
import { makeSource, span } from '../../grammar/source.js';
import type { Tensor } from '../../compiler/ops/define.js';
import { compileFiles, type CompiledPipeline } from '../../compiler/compile.js';
import { describePipeline } from '../../runtime/cli/commands/explain.js';
import { stdlibPipelines } from '../../runtime/cli/resolve-target.js';
import { rng } from '../helpers/random-batch.js';
import type { RefResult } from '../helpers/references.js';
import * as M from '../helpers/references-iii-more.js';
import { entriesFor, firstMiss, makeBatch, referenceGrad, runPipeline, type BatchSpec } from '../helpers/stdlib-harness.js';

const TOL = 1e-5;
const cache = new Map<string, CompiledPipeline>();
type Feed = number | { shape: number[]; data: Float64Array };

function pipeline(name: string, set: Readonly<Record<string, string>> = {}): CompiledPipeline {
  const key = `${name} ${JSON.stringify(set)}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const file = stdlibPipelines().get(name);
  if (file === undefined) throw new Error(`no stdlib pipeline ${name}`);
  const r = compileFiles([file], { set });
  const p = r.pipelines.find((x) => x.name === name);
  if (p === undefined) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '));
  cache.set(key, p);
  return p;
}

/** The batch with every extra input these pipelines read, drawn from `seed`. */
function extend(spec: BatchSpec): M.RefBatchMore {
  const b = makeBatch(spec);
  const r = rng(spec.seed + 2000);
  const f = Math.fround;
  const n = b.B * b.G * b.T;
  const pad = (v: number, k: number): number => (b.mask[k] === 0 ? 1e4 : f(v));
  return {
    ...b,
    rollout_logp: b.old_logp.map((v, k) => pad(v + 0.5 * (2 * r() - 1), k)),
    label: Float64Array.from({ length: b.B * b.G }, () => (r() < 0.5 ? 0 : 1)),
    // sum_v pi_v^2 lies in [pi_y^2, 1]; any value in (0, 1] exercises the formulas.
    sum_pi_squared: Float64Array.from({ length: n }, (_, k) => pad(0.05 + 0.9 * r(), k)),
    uniform: Float64Array.from({ length: n }, () => f(r())),
    truncated: Float64Array.from({ length: b.B * b.G }, () => (r() < 0.3 ? 1 : 0)),
    entropy: Float64Array.from({ length: n }, (_, k) => pad(3 * r(), k)),
  };
}

function reads(p: CompiledPipeline, name: string): boolean {
  return p.ir.ordered().some((n) => n.op === 'input' && n.attrs['name'] === name);
}

async function run(p: CompiledPipeline, b: M.RefBatchMore, set: Readonly<Record<string, string>> = {}, fed: Record<string, Feed> = {}) {
  const extra: Record<string, Feed> = { ...fed };
  for (const name of ['rollout_logp', 'sum_pi_squared', 'uniform', 'entropy'] as const) if (reads(p, name)) extra[name] = { shape: [b.B, b.G, b.T], data: b[name] };
  for (const name of ['label', 'truncated'] as const) if (reads(p, name)) extra[name] = { shape: [b.B, b.G], data: b[name] };
  return runPipeline(p, b, extra, set);
}

async function check(name: string, ref: M.ReferenceMore, b: M.RefBatchMore, set: Readonly<Record<string, string>> = {}, fed: Record<string, Feed> = {}): Promise<Record<string, { data: ArrayLike<number> }>> {
  const out = await run(pipeline(name, set), b, set, fed);
  const want = ref(b, b.logp);
  const loss = out['loss']!.data[0]!;
  expect(Math.abs(loss - want.loss) <= TOL * Math.max(Math.abs(want.loss), want.scale) + 1e-7, `loss ${loss} vs ${want.loss} (scale ${want.scale})`).toBe(true);
  if (want.A !== undefined) expect(firstMiss(out['advantage']!.data, want.A, TOL, 1e-2, TOL), 'advantage').toBeNull();
  const g = out['grad.logp']!.data;
  b.mask.forEach((m, k) => {
    if (m === 0) expect(Math.abs(g[k]!), `grad on padding [${k}]`).toBe(0);
  });
  const fd = referenceGrad((bb, lp) => ref(bb as M.RefBatchMore, lp), b);
  expect(firstMiss(g, fd, TOL, 1e-2, 1e-9 * Math.max(1, want.scale)), 'grad.logp').toBeNull();
  return out as Record<string, { data: ArrayLike<number> }>;
}

const groupCases: Record<string, BatchSpec> = {
  'a hand-sized batch with padding': { B: 2, G: 4, T: 5, seed: 11, lengths: [5, 3, 1, 4, 2, 5, 5, 3] },
  'random batch 1': { B: 3, G: 4, T: 6, seed: 1, reward: (r) => 2 * r() - 1 },
  'random batch 2': { B: 2, G: 6, T: 4, seed: 2, reward: (r) => 3 * r() },
  'all-equal rewards': { B: 2, G: 4, T: 5, seed: 3, reward: () => 1 },
  'a group with one positive': { B: 2, G: 4, T: 5, seed: 4, reward: (_r, i) => (i % 4 === 1 ? 1 : 0) },
  'a fully masked row': { B: 2, G: 4, T: 5, seed: 5, lengths: [3, 0, 5, 2, 1, 4, 0, 5], reward: (r) => r() },
  'ratios far outside the trust region (log-ratios of +-20)': { B: 2, G: 4, T: 5, seed: 6, spread: 20, exact: true, reward: (r) => 2 * r() - 1 },
  'G = 2': { B: 3, G: 2, T: 5, seed: 7, reward: (r) => r() },
};

const prefCases: Record<string, BatchSpec> = {
  'a hand-sized batch with padding': { B: 3, G: 2, T: 5, seed: 21, lengths: [5, 3, 2, 4, 1, 5] },
  'random batch 1': { B: 4, G: 2, T: 6, seed: 22, reward: (r) => (r() < 0.5 ? 0 : 1) },
  'random batch 2': { B: 2, G: 2, T: 3, seed: 23, spread: 2, reward: (r) => r() },
  'a fully masked rejected row': { B: 3, G: 2, T: 4, seed: 24, lengths: [4, 0, 2, 3, 1, 1] },
  'log-ratios far out (18 to 20)': { B: 3, G: 2, T: 4, seed: 25, spread: 20 },
};

const GROUP_METHODS: readonly [string, M.ReferenceMore, Record<string, string>][] = [
  ['otb', M.otb(), {}],
  ['otb', M.otb(false), { zero_tail: 'false' }],
  ['clip_cov', M.clip_cov(), {}],
  ['clip_cov', M.clip_cov(0.3, 0.05), { clip_cov_ratio: '0.3', clip_cov_lb: '0.05' }],
  ['kl_cov', M.kl_cov(), {}],
  ['kl_cov', M.kl_cov(0.25, 0.5), { kl_cov_ratio: '0.25', ppo_kl_coef: '0.5' }],
  ['trl_grpo', M.trl_grpo(), {}],
  ['trl_grpo', M.trl_grpo({ delta: 1.5 }), { delta: '1.5' }],
  ['trl_grpo', M.trl_grpo({ scale: 'batch' }), { scale_rewards: 'batch' }],
  ['trl_grpo', M.trl_grpo({ scale: 'none' }), { scale_rewards: 'none' }],
  ['trl_grpo', M.trl_grpo({ rho: 0.25 }), { top_entropy_quantile: '0.25' }],
  ['trl_grpo', M.trl_grpo({ maskTruncated: true }), { mask_truncated_completions: 'true' }],
  ['trl_grpo', M.trl_grpo({ maskTruncated: true, agg: 'token-mean', rho: 0.5 }), { mask_truncated_completions: 'true', agg: 'token-mean', top_entropy_quantile: '0.5' }],
  ['trl_grpo', M.trl_grpo({ beta: 0.04 }), { beta: '0.04' }],
  ['trl_grpo', M.trl_grpo({ beta: 0.04, biasCorrection: true }), { beta: '0.04', use_bias_correction_kl: 'true' }],
  ['trl_grpo', M.trl_grpo({ beta: 0.04, kl: 'k3+' }), { beta: '0.04', kl_estimator: 'k3+' }],
  ['trl_grpo', M.trl_grpo({ beta: 0.04, kl: 'k1' }), { beta: '0.04', kl_estimator: 'k1' }],
  // A beta large enough that r - mean_G r is not lost to float32 cancellation next to r = 1.
  ['trl_grpo', M.trl_grpo({ beta: 0.5, klInReward: true }), { beta: '0.5', kl_in_reward: 'true' }],
];

for (const [name, ref, set] of GROUP_METHODS) {
  describe(`${name}${Object.keys(set).length > 0 ? ` (${JSON.stringify(set)})` : ''} against its reference`, () => {
    for (const [label, spec] of Object.entries(groupCases)) it(label, async () => void (await check(name, ref, extend(spec), set)));
  });
}

const PREF_METHODS: readonly [string, M.ReferenceMore, Record<string, string>][] = [
  ['bco', M.bco(), {}],
  ['wpo', M.wpo(), {}],
  ['xpo', M.xpo('sigmoid'), {}],
  ['xpo', M.xpo('ipo', 0.1, 0.05), { loss_type: 'ipo', alpha: '0.05' }],
  ['nash_md', M.nash_md(), {}],
];

for (const [name, ref, set] of PREF_METHODS) {
  describe(`${name}${Object.keys(set).length > 0 ? ` (${JSON.stringify(set)})` : ''} against its reference`, () => {
    for (const [label, spec] of Object.entries(prefCases)) it(label, async () => void (await check(name, ref, extend(spec), set)));
  });
}

describe('trl_grpo_multi (inputs rewards f32[B,G,F], reward_weights f32[F]) in both multi-objective orders', () => {
  const F = 3;
  const weights = [1, 0.5, 2];
  for (const order of ['sum_then_normalize', 'normalize_then_sum'] as const) {
    for (const [label, spec] of Object.entries(groupCases)) {
      it(`${order}: ${label}`, async () => {
        const b = extend(spec);
        const r = rng(spec.seed + 9);
        // A component equal within every group (its z-scores are 0) next to two random ones.
        const rewards = Float64Array.from({ length: b.B * b.G * F }, (_, i) => Math.fround(i % F === 1 ? Math.floor(i / (F * b.G)) : r()));
        const set = { multi_objective: order, beta: '0.04', kl_in_reward: 'true' };
        const ref = M.trl_grpo({ beta: 0.04, klInReward: true, multi: { rewards, weights, order } });
        await check('trl_grpo_multi', ref, b, set, { rewards: { shape: [b.B, b.G, F], data: rewards }, reward_weights: { shape: [F], data: Float64Array.from(weights) } });
      });
    }
  }
  it('the two orders differ when a component has a larger spread', async () => {
    const b = extend({ B: 1, G: 4, T: 3, seed: 81 });
    // Correctness [1, 0, 1, 0] and a length penalty in raw units (TRL's documented example).
    const rewards = Float64Array.from([1, -120, 0, -100, 1, -60, 0, -80]);
    const fed = { rewards: { shape: [1, 4, 2], data: rewards }, reward_weights: { shape: [2], data: Float64Array.from([1, 1]) } };
    const a = await run(pipeline('trl_grpo_multi'), b, {}, fed);
    const n = await run(pipeline('trl_grpo_multi', { multi_objective: 'normalize_then_sum' }), b, { multi_objective: 'normalize_then_sum' }, fed);
    expect(Array.from(a['advantage']!.data, (x) => Number(x.toFixed(2)))).toEqual([-1.14, -0.41, 1.18, 0.37]);
    expect(firstMiss(n['advantage']!.data, a['advantage']!.data, 1e-2)).not.toBeNull();
  });
});

describe('the selections, reported as metrics', () => {
  it('clip_cov reports the fraction of tokens whose gradient it cut, chosen by the seeded uniform draws', async () => {
    const b = extend({ B: 3, G: 4, T: 6, seed: 51, reward: (r) => 2 * r() - 1 });
    const set = { clip_cov_ratio: '0.3', clip_cov_lb: '0.05' };
    const out = await run(pipeline('clip_cov', set), b, set);
    const want = (M.clip_cov(0.3, 0.05)(b, b.logp) as RefResult & { selected: number }).selected;
    expect(want).toBeGreaterThan(0);
    expect(out['loss.frac_selected']!.data[0]).toBeCloseTo(want, 6);
    // Other draws choose other tokens (same count).
    const other = await run(pipeline('clip_cov', set), { ...b, uniform: b.uniform.map((u) => 1 - u) }, set);
    expect(other['loss.frac_selected']!.data[0]).toBeCloseTo(want, 6);
    expect(firstMiss(other['grad.logp']!.data, out['grad.logp']!.data, 1e-6)).not.toBeNull();
  });

  it('kl_cov reports the fraction of tokens it penalized: max(floor(ratio x tokens), 1) of them', async () => {
    const b = extend({ B: 3, G: 4, T: 6, seed: 52, reward: (r) => 2 * r() - 1 });
    const tokens = b.mask.reduce((a, m) => a + m, 0);
    for (const [ratio, count] of [['0.0002', 1], ['0.25', Math.floor(0.25 * tokens)]] as const) {
      const out = await run(pipeline('kl_cov', { kl_cov_ratio: ratio }), b, { kl_cov_ratio: ratio });
      expect(out['loss.frac_selected']!.data[0]).toBeCloseTo(count / tokens, 6);
    }
  });

  it('trl_grpo reports the fraction of tokens below the entropy quantile', async () => {
    const b = extend({ B: 3, G: 4, T: 6, seed: 53, reward: (r) => r() });
    const out = await run(pipeline('trl_grpo', { top_entropy_quantile: '0.25' }), b, { top_entropy_quantile: '0.25' });
    const want = M.lowEntropyFraction(b, 0.25);
    expect(want).toBeGreaterThan(0.6);
    expect(out['loss.frac_low_entropy']!.data[0]).toBeCloseTo(want, 6);
  });
});

describe('stop-gradient semantics', () => {
  it('trl_grpo k3+: the value of k3, the gradient of k2', async () => {
    const b = extend({ B: 2, G: 4, T: 5, seed: 61, reward: () => 1 });
    // All-equal rewards: A = 0, the loss is beta x KL alone.
    const plus = await run(pipeline('trl_grpo', { beta: '1', kl_estimator: 'k3+' }), b, { beta: '1', kl_estimator: 'k3+' });
    const k3 = await run(pipeline('trl_grpo', { beta: '1', kl_estimator: 'low_var_kl' }), b, { beta: '1', kl_estimator: 'low_var_kl' });
    const k2 = await run(pipeline('trl_grpo', { beta: '1', kl_estimator: 'k2' }), b, { beta: '1', kl_estimator: 'k2' });
    expect(plus['loss']!.data[0]).toBeCloseTo(k3['loss']!.data[0]!, 6);
    expect(firstMiss(plus['grad.logp']!.data, k2['grad.logp']!.data, 1e-5, 1e-2, 1e-9)).toBeNull();
    expect(firstMiss(plus['grad.logp']!.data, k3['grad.logp']!.data, 1e-5, 1e-2, 1e-9)).not.toBeNull();
  });

  it('nash_md: completion 1 gets no gradient, and the KL term\'s log-ratio none either', async () => {
    const b = extend({ B: 3, G: 2, T: 4, seed: 62, reward: (r) => r() });
    const out = await run(pipeline('nash_md'), b);
    const g = out['grad.logp']!.data;
    for (let i = 0; i < b.B; i++) {
      const p = 1 / (1 + Math.exp(-(b.reward[2 * i]! - b.reward[2 * i + 1]!)));
      for (let t = 0; t < b.T; t++) {
        const k0 = 2 * i * b.T + t;
        expect(g[(2 * i + 1) * b.T + t]).toBe(0);
        if (b.mask[k0] !== 0) expect(g[k0]!).toBeCloseTo((0.1 * (b.logp[k0]! - b.ref_logp[k0]!) - (p - 0.5)) / b.B, 5);
      }
    }
  });

  it('wpo: the weight carries no gradient (the DPO gradient scaled by it)', async () => {
    const b = extend({ B: 2, G: 2, T: 3, seed: 63 });
    const weighted = await run(pipeline('wpo'), b);
    const plain = await runPipeline(pipeline('dpo'), b);
    const g = weighted['grad.logp']!.data;
    const h = plain['grad.logp']!.data;
    for (let i = 0; i < b.B; i++) {
      const w = (s: number): number => {
        let acc = 0;
        let n = 0;
        for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) {
          acc += b.logp[s * b.T + t]! - Math.log(b.sum_pi_squared[s * b.T + t]!);
          n++;
        }
        return acc / Math.max(n, 1);
      };
      const weight = Math.min(Math.exp(w(2 * i) + w(2 * i + 1)), 1);
      for (let k = 2 * i * b.T; k < (2 * i + 2) * b.T; k++) expect(g[k]!).toBeCloseTo(weight * h[k]!, 6);
    }
  });
});

describe('bco keeps the running mean of the implicit rewards as state', () => {
  it('carries delta over consecutive batches: each batch\'s loss uses the mean of every batch mean so far', async () => {
    const p = pipeline('bco');
    const { tf } = await useBackend('cpu');
    const here = span(makeSource('batch', ''), 0, 0);
    let state = new Map<string, Tensor>();
    let n = 0;
    let mu = 0;
    const means: number[] = [];
    for (let k = 0; k < 3; k++) {
      const b = extend({ B: 2 + k, G: 2, T: 4, seed: 71 + k, spread: 0.5 + k });
      const v = validateBatch(p.ir, entriesFor(p, b), { set: {}, grad: [], allowNonfinite: false, fileSpan: here });
      expect(v.valid, v.diagnostics.map((d) => d.message).join('; ')).not.toBeNull();
      const feeds = new Map(v.valid!.entries.map((e) => [e.name, tf.tensor(Array.from(e.tensor.data), [...e.tensor.shape], 'float32')] as [string, Tensor]));
      const vals = runPlan(v.valid!.plan, { tf, backend: 'cpu', sizes: v.valid!.sizes, feeds, params: v.valid!.params, state });
      const read = async (name: string): Promise<number> => (await vals.get(v.valid!.plan.outputs.get(name)!)!.data())[0]!;
      const ref = M.bco(0.1, n, mu)(b, b.logp) as RefResult & { delta: number };
      const loss = await read('loss');
      expect(Math.abs(loss - ref.loss), `batch ${k}: loss ${loss} vs ${ref.loss}`).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(ref.loss), ref.scale));
      means.push((M.bco(0.1, 0, 0)(b, b.logp) as RefResult & { delta: number }).delta);
      // delta is the plain mean of the batch means seen so far.
      const plain = means.reduce((a, x) => a + x, 0) / means.length;
      expect(Math.abs(ref.delta - plain)).toBeLessThan(1e-6 * Math.max(Math.abs(plain), 1e-2));
      const got = { n: await read('update.n'), mu: await read('update.mu') };
      expect(got.n).toBe(k + 1);
      expect(Math.abs(got.mu - ref.delta)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.delta)));
      const next = new Map<string, Tensor>([['n', tf.keep(tf.scalar(got.n))], ['mu', tf.keep(tf.scalar(got.mu))]]);
      tf.dispose([...state.values(), ...feeds.values(), ...vals.values()]);
      state = next;
      n = got.n;
      mu = got.mu;
    }
    tf.dispose([...state.values()]);
  });
});

describe('every pipeline of this part is listed and explained', () => {
  const all = stdlibPipelines();
  for (const name of ['otb', 'clip_cov', 'kl_cov', 'trl_grpo', 'trl_grpo_multi', 'bco', 'wpo', 'xpo', 'nash_md']) {
    it(name, () => {
      expect(all.has(name)).toBe(true);
      const p = pipeline(name);
      expect(describePipeline(p.raw, p.file)).toContain(`pipeline ${name}`);
      expect(p.raw.meta.doc.length).toBeGreaterThan(100);
    });
  }
});
