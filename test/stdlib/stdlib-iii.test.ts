/**
 * Standard library III against independent references written from the formulas
 * (test/helpers/references-iii.ts): loss, advantage and grad.logp within 1e-5 relative on cpu, on
 * a hand-sized batch with padding, random batches and edge cases; verl's five aggregation modes on
 * grpo; micro-batch additivity per mode; the logged fractions; stop-gradient semantics.
 */
import { describe, expect, it } from 'vitest';
import { compileFiles, type CompiledPipeline } from '../../compiler/compile.js';
import { parseBody } from '../../compiler/codegen/body.js';
import { describePipeline } from '../../runtime/cli/commands/explain.js';
import { stdlibPipelines } from '../../runtime/cli/resolve-target.js';
import { rng } from '../helpers/random-batch.js';
import { groupAdvantage, type RefBatch } from '../helpers/references.js';
import * as R from '../helpers/references-iii.js';
import { firstMiss, makeBatch, padMore, referenceGrad, runPipeline, sliceBatch, type BatchSpec } from '../helpers/stdlib-harness.js';

const TOL = 1e-5;
const cache = new Map<string, CompiledPipeline>();

/** The stdlib pipeline `name` compiled with these `--set` values (choices are picked at compile time). */
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

/** The batch with the sampler's log-probs (old_logp off by up to `spread`) and unpaired labels. */
function extend(b: RefBatch, seed: number, spread = 0.5): R.RefBatchIII {
  const r = rng(seed + 1000);
  const rollout_logp = b.old_logp.map((v, k) => (b.mask[k] === 0 ? 1e4 : Math.fround(v + spread * (2 * r() - 1))));
  const label = Float64Array.from({ length: b.B * b.G }, () => (r() < 0.5 ? 0 : 1));
  return { ...b, rollout_logp, label };
}

function reads(p: CompiledPipeline, name: string): boolean {
  return p.ir.ordered().some((n) => n.op === 'input' && n.attrs['name'] === name);
}

/** Evaluate on cpu, feeding the extra inputs the pipeline reads. */
async function run(p: CompiledPipeline, b: R.RefBatchIII, set: Readonly<Record<string, string>> = {}, fed: Record<string, number | { shape: number[]; data: Float64Array }> = {}) {
  const extra: Record<string, number | { shape: number[]; data: Float64Array }> = { ...fed };
  if (reads(p, 'rollout_logp')) extra['rollout_logp'] = { shape: [b.B, b.G, b.T], data: b.rollout_logp };
  if (reads(p, 'label')) extra['label'] = { shape: [b.B, b.G], data: b.label };
  return runPipeline(p, b, extra, set);
}

async function check(name: string, ref: R.ReferenceIII, b: R.RefBatchIII, set: Readonly<Record<string, string>> = {}): Promise<void> {
  const out = await run(pipeline(name, set), b, set);
  const want = ref(b, b.logp);
  const loss = out['loss']!.data[0]!;
  expect(Math.abs(loss - want.loss) <= TOL * Math.max(Math.abs(want.loss), want.scale), `loss ${loss} vs ${want.loss} (scale ${want.scale})`).toBe(true);
  if (want.A !== undefined) expect(firstMiss(out['advantage']!.data, want.A, TOL, 1e-2, TOL), 'advantage').toBeNull();
  const g = out['grad.logp']!.data;
  b.mask.forEach((m, k) => {
    if (m === 0) expect(Math.abs(g[k]!), `grad on padding [${k}]`).toBe(0);
  });
  const fd = referenceGrad((bb, lp) => ref(bb as R.RefBatchIII, lp), b);
  expect(firstMiss(g, fd, TOL, 1e-2, 1e-9 * Math.max(1, want.scale)), 'grad.logp').toBeNull();
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
  'random batch 2': { B: 2, G: 2, T: 3, seed: 23, spread: 2 },
  'a fully masked rejected row': { B: 3, G: 2, T: 4, seed: 24, lengths: [4, 0, 2, 3, 1, 1] },
  'log-ratios far out (18 to 20)': { B: 3, G: 2, T: 4, seed: 25, spread: 20 },
};

/** Each group method with the `--set` values it is checked under. */
const GROUP_METHODS: readonly [string, R.ReferenceIII, Record<string, string>][] = [
  ['opo', R.opo, {}],
  ['grpo_passk', R.grpo_passk, {}],
  ['gpg', R.gpg, {}],
  ['sapo', R.sapo, {}],
  ['gmpo', R.gmpo(), {}],
  ['dppo_tv', R.dppo('tv'), {}],
  ['dppo_kl', R.dppo('kl'), {}],
  ['dro', R.dro(), {}],
  ['luspo', R.luspo, {}],
  ['vespo', R.vespo, {}],
  ['grpo_tis', R.grpo_tis('token'), {}],
  ['grpo_tis', R.grpo_tis('sequence'), { level: 'sequence' }],
  ['grpo_icepop', R.grpo_icepop(), {}],
  ['grpo_mis', R.grpo_mis('none'), {}],
  ['grpo_mis', R.grpo_mis('token_k3'), { reject: 'token_k3' }],
  ['grpo_mis', R.grpo_mis('seq_mean_k3'), { reject: 'seq_mean_k3' }],
  ['grpo_mis', R.grpo_mis('seq_max_k3'), { reject: 'seq_max_k3' }],
];

for (const [name, ref, set] of GROUP_METHODS) {
  describe(`${name}${Object.keys(set).length > 0 ? ` (${JSON.stringify(set)})` : ''} against its reference`, () => {
    for (const [label, spec] of Object.entries(groupCases)) {
      // grpo_passk needs two samples per group (verl raises otherwise), which every case has.
      it(label, async () => check(name, ref, extend(makeBatch(spec), spec.seed), set));
    }
  });
}

const PREF_METHODS: readonly [string, R.ReferenceIII, Record<string, string>][] = [
  ['kto', R.kto(), {}],
  ['kto_unpaired', R.kto_unpaired(), {}],
  ['simpo', R.simpo(), {}],
  ['cpo', R.cpo(), {}],
  ['alphapo', R.alphapo(), {}],
  ['orpo', R.orpo(), {}],
  ['sigmoid_norm', R.sigmoid_norm(), {}],
  ['dpo_f', R.dpo_f('reverse_kl'), {}],
  ['dpo_f', R.dpo_f('forward_kl'), { divergence: 'forward_kl' }],
  ['dpo_f', R.dpo_f('js_divergence'), { divergence: 'js_divergence' }],
  ['dpo_f', R.dpo_f('alpha_divergence'), { divergence: 'alpha_divergence' }],
  ['mpo', R.mpo(), {}],
  ['online_dpo', R.online_dpo('sigmoid'), {}],
  ['online_dpo', R.online_dpo('ipo'), { loss_type: 'ipo' }],
];

for (const [name, ref, set] of PREF_METHODS) {
  describe(`${name}${Object.keys(set).length > 0 ? ` (${JSON.stringify(set)})` : ''} against its reference`, () => {
    for (const [label, spec] of Object.entries(prefCases)) {
      if (name === 'orpo' && label === 'a fully masked rejected row') {
        // An empty completion has probability 1: its log odds a - log(1 - e^a) are infinite (TRL's
        // average log-prob is 0/0 = NaN there). ORPO is undefined on it, in rlp and in TRL.
        it(`${label}: undefined, the loss is not finite`, async () => {
          const out = await run(pipeline(name), extend(makeBatch(spec), spec.seed));
          expect(Number.isFinite(out['loss']!.data[0]!)).toBe(false);
        });
        continue;
      }
      it(label, async () => check(name, ref, extend(makeBatch(spec), spec.seed), set));
    }
  });
}

describe('gdpo (declared inputs rewards f32[B,G,K], reward_weights f32[K]) against its reference', () => {
  const K = 3;
  const cases: Record<string, [BatchSpec, (r: () => number, i: number) => number]> = {
    'a hand-sized batch with padding': [{ B: 2, G: 4, T: 5, seed: 71, lengths: [5, 3, 1, 4, 2, 5, 5, 3] }, (r) => r()],
    'random batch': [{ B: 3, G: 4, T: 6, seed: 72 }, (r) => 2 * r() - 1],
    'a component equal in every group (its z-scores are 0)': [{ B: 2, G: 4, T: 5, seed: 73 }, (r, i) => (i % K === 1 ? 1 : r())],
    'a group with one positive': [{ B: 2, G: 4, T: 5, seed: 74 }, (_r, i) => (Math.floor(i / K) % 4 === 2 ? 1 : 0) + 0.1 * (i % K)],
    'a fully masked row': [{ B: 2, G: 4, T: 5, seed: 75, lengths: [3, 0, 5, 2, 1, 4, 0, 5] }, (r) => r()],
    'ratios far outside the trust region': [{ B: 2, G: 4, T: 5, seed: 76, spread: 20, exact: true }, (r) => r()],
  };
  for (const [label, [spec, score]] of Object.entries(cases)) {
    it(label, async () => {
      const b = extend(makeBatch(spec), spec.seed);
      const r = rng(spec.seed + 7);
      const rewards = Float64Array.from({ length: b.B * b.G * K }, (_, i) => Math.fround(score(r, i)));
      const weights = [1, 0.5, 2];
      const ref = R.gdpo(rewards, weights);
      const out = await run(pipeline('gdpo'), b, {}, { rewards: { shape: [b.B, b.G, K], data: rewards }, reward_weights: { shape: [K], data: Float64Array.from(weights) } });
      const want = ref(b, b.logp);
      const loss = out['loss']!.data[0]!;
      expect(Math.abs(loss - want.loss) <= TOL * Math.max(Math.abs(want.loss), want.scale), `loss ${loss} vs ${want.loss}`).toBe(true);
      expect(firstMiss(out['advantage']!.data, want.A!, TOL, 1e-2, TOL), 'advantage').toBeNull();
      const fd = referenceGrad((bb, lp) => ref(bb as R.RefBatchIII, lp), b);
      expect(firstMiss(out['grad.logp']!.data, fd, TOL, 1e-2, 1e-9 * Math.max(1, want.scale)), 'grad.logp').toBeNull();
    });
  }
});

describe('agg on grpo reproduces verl\'s five loss_agg_mode values', () => {
  const specs: BatchSpec[] = [
    { B: 3, G: 4, T: 6, seed: 31, reward: (r) => 2 * r() - 1 },
    { B: 2, G: 4, T: 5, seed: 32, lengths: [3, 0, 5, 2, 1, 4, 0, 5], reward: (r) => r() },
    { B: 2, G: 3, T: 7, seed: 33 },
  ];
  for (const mode of R.AGG_MODES) {
    it(mode, async () => {
      for (const spec of specs) await check('grpo', R.grpoAgg(mode), extend(makeBatch(spec), spec.seed), { agg: mode, skip_empty_rows: 'true' });
    });
  }

  it('seq-mean-token-sum-norm divides by `horizon` when it is set', async () => {
    const spec = specs[0]!;
    await check('grpo', R.grpoAgg('seq-mean-token-sum-norm', 16), extend(makeBatch(spec), spec.seed), { agg: 'seq-mean-token-sum-norm', skip_empty_rows: 'true', horizon: '16' });
  });

  it('leaves only the chosen aggregation in the IR', () => {
    // The IR as the checker builds it (the choice is made there), before `fuse` folds the loss's
    // reductions into a fused node; and after every pass, the fused node's own ops.
    const lossOp = (g: CompiledPipeline['raw']): string => g.node(g.outputs.find((o) => o.name === 'loss')!.node).op;
    const sum = pipeline('grpo', { agg: 'token-sum' });
    expect(lossOp(sum.raw)).toBe('sum');
    expect(lossOp(sum.ir)).toBe('fused');
    expect(String(sum.ir.node(sum.ir.outputs.find((o) => o.name === 'loss')!.node).attrs['ops']).split(' ').at(-1)).toBe('sum');
    const mean = pipeline('grpo');
    expect(lossOp(mean.raw)).toBe('div');
    expect(lossOp(mean.ir)).toBe('div');
    // Nothing of seq-mean-token-sum-norm's width (count over T) survives in the default, fused or not.
    for (const g of [mean.raw, mean.ir]) {
      expect(g.ordered().some((n) => n.op === 'count' && String(n.attrs['over']) === 'T')).toBe(false);
      const members = g.ordered().filter((n) => n.op === 'fused').flatMap((n) => parseBody(n.attrs['body']).nodes);
      expect(members.some((n) => n.op === 'count' && String(n.attrs['over']) === 'T')).toBe(false);
    }
    // While the norm variant has one (a check that can fail).
    const norm = pipeline('grpo', { agg: 'seq-mean-token-sum-norm' });
    expect(norm.raw.ordered().some((n) => n.op === 'count' && String(n.attrs['over']) === 'T')).toBe(true);
  });
});

describe('micro-batches with the global denominators add up to the whole batch, per agg mode', () => {
  const b = extend(makeBatch({ B: 4, G: 4, T: 4, seed: 41, lengths: [4, 2, 0, 3, 1, 4, 4, 2, 3, 3, 0, 1, 2, 4, 1, 3], reward: (r) => r() }), 41);
  const split = async (set: Record<string, string>, widen = 0): Promise<{ whole: number; parts: number; gradMiss: string | null }> => {
    const p = pipeline('grpo', set);
    const whole = await run(p, b, set);
    const shared = { 'loss.tokens': whole['loss.tokens']!.data[0]!, 'loss.seqs': whole['loss.seqs']!.data[0]! };
    let parts = 0;
    const grads: number[] = [];
    for (const [from, to] of [[0, 2], [2, 4]] as const) {
      const part = sliceBatch(b, from, to);
      const mb: R.RefBatchIII = { ...part, rollout_logp: b.rollout_logp.slice(from * b.G * b.T, to * b.G * b.T), label: b.label.slice(from * b.G, to * b.G) };
      // The second micro-batch is padded `widen` more positions (its own padded width).
      const fed = from === 2 && widen > 0 ? { ...padMore(mb, widen), rollout_logp: mb.rollout_logp, label: mb.label } : mb;
      const out = await run(p, fed, set, shared);
      parts += out['loss']!.data[0]!;
      const g = out['grad.logp']!.data;
      for (let s = 0; s < fed.B * fed.G; s++) for (let t = 0; t < b.T; t++) grads.push(g[s * fed.T + t]!);
    }
    return { whole: whole['loss']!.data[0]!, parts, gradMiss: firstMiss(grads, whole['grad.logp']!.data, 1e-5, 1e-2, 1e-9) };
  };

  for (const mode of R.AGG_MODES) {
    it(`${mode}${mode === 'seq-mean-token-sum-norm' ? ' with a fixed horizon' : ''}`, async () => {
      const set = { agg: mode, skip_empty_rows: 'true', ...(mode === 'seq-mean-token-sum-norm' ? { horizon: '4' } : {}) };
      const r = await split(set, 3);
      expect(Math.abs(r.parts - r.whole)).toBeLessThanOrEqual(TOL * Math.max(Math.abs(r.whole), 1e-3));
      expect(r.gradMiss).toBeNull();
    });
  }

  it('seq-mean-token-sum-norm without a horizon cannot add up when micro-batches have different padded widths: it divides by each one\'s own T', async () => {
    const same = await split({ agg: 'seq-mean-token-sum-norm', skip_empty_rows: 'true' });
    expect(Math.abs(same.parts - same.whole)).toBeLessThanOrEqual(TOL * Math.abs(same.whole));
    const widened = await split({ agg: 'seq-mean-token-sum-norm', skip_empty_rows: 'true' }, 3);
    expect(Math.abs(widened.parts - widened.whole)).toBeGreaterThan(1e-3 * Math.abs(widened.whole));
  });
});

describe('the logged fractions', () => {
  const b = extend(makeBatch({ B: 3, G: 4, T: 6, seed: 51, reward: (r) => r() }), 51, 2);

  it('grpo_tis reports the fraction of tokens whose weight was truncated', async () => {
    const out = await run(pipeline('grpo_tis'), b);
    const want = R.tisTruncated(b);
    expect(want).toBeGreaterThan(0);
    expect(out['loss.frac_truncated']!.data[0]).toBeCloseTo(want, 6);
  });

  it('grpo_icepop reports the fraction of tokens its mask drops', async () => {
    const out = await run(pipeline('grpo_icepop'), b);
    const want = R.icepopMasked(b);
    expect(want).toBeGreaterThan(0);
    expect(out['loss.frac_masked']!.data[0]).toBeCloseTo(want, 6);
  });

  it('dppo_tv and dppo_kl report the fraction of tokens outside the trust region', async () => {
    const far = extend(makeBatch({ B: 2, G: 4, T: 5, seed: 52, spread: 2, reward: (r) => r() }), 52);
    for (const kind of ['tv', 'kl'] as const) {
      const out = await run(pipeline(`dppo_${kind}`), far);
      const want = R.dppoClipped(far, kind);
      expect(want).toBeGreaterThan(0);
      expect(out['loss.frac_clipped']!.data[0]).toBeCloseTo(want, 6);
    }
  });
});

describe('stop-gradient semantics as the libraries', () => {
  it('dppo_tv: the truncated IS weight and the trust-region mask carry no gradient, so grad.logp = -A w valid / tokens', async () => {
    const b = extend(makeBatch({ B: 2, G: 4, T: 5, seed: 61, spread: 1, reward: (r) => r() }), 61);
    const out = await run(pipeline('dppo_tv'), b);
    const A = groupAdvantage(b);
    const tokens = b.mask.reduce((a, m) => a + m, 0);
    const g = out['grad.logp']!.data;
    for (let k = 0; k < b.mask.length; k++) {
      if (b.mask[k] === 0) continue;
      const s = Math.floor(k / b.T);
      const p = Math.exp(b.logp[k]!);
      const q = Math.exp(b.old_logp[k]!);
      const valid = A[s]! > 0 ? p - q <= 0.2 : p - q >= -0.2;
      const w = Math.min(Math.exp(b.logp[k]! - b.old_logp[k]!), 3);
      expect(g[k]!).toBeCloseTo(valid ? (-A[s]! * w) / tokens : 0, 5);
    }
  });

  it('grpo_tis: the TIS weight scales the policy gradient and leaves the KL gradient alone', async () => {
    const b = extend(makeBatch({ B: 2, G: 4, T: 5, seed: 62, reward: (r) => r() }), 62, 2);
    const out = await run(pipeline('grpo_tis'), b);
    const base = await run(pipeline('grpo_tis', {}), { ...b, rollout_logp: b.old_logp });
    // With rollout_logp = old_logp every weight is 1: the plain GRPO gradient.
    const plain = await runPipeline(pipeline('grpo'), b, {}, { skip_empty_rows: 'true' });
    expect(firstMiss(base['grad.logp']!.data, plain['grad.logp']!.data, 1e-5, 1e-2, 1e-9)).toBeNull();
    expect(firstMiss(out['grad.logp']!.data, base['grad.logp']!.data, 1e-5, 1e-2, 1e-9)).not.toBeNull();
  });
});

describe('every new pipeline is listed and explained', () => {
  const names = ['gdpo', 'luspo', 'vespo', 'opo', 'grpo_passk', 'gpg', 'sapo', 'gmpo', 'dppo_tv', 'dppo_kl', 'dro', 'grpo_tis', 'grpo_icepop', 'grpo_mis', 'kto', 'kto_unpaired', 'simpo', 'cpo', 'alphapo', 'orpo', 'sigmoid_norm', 'dpo_f', 'mpo', 'online_dpo'];
  const all = stdlibPipelines();
  for (const name of names) {
    it(name, () => {
      expect(all.has(name)).toBe(true);
      const p = pipeline(name);
      const page = describePipeline(p.raw, p.file);
      expect(page).toContain(`pipeline ${name}`);
      expect(p.raw.meta.doc.length).toBeGreaterThan(100);
    });
  }
});

describe('batch helpers of this file', () => {
  it('make rollout log-probs that differ from old_logp on completion tokens only', () => {
    const b = extend(makeBatch({ B: 1, G: 2, T: 3, seed: 1, lengths: [2, 3] }), 1);
    expect(b.rollout_logp[2]).toBe(1e4);
    expect(b.rollout_logp[0]).not.toBe(b.old_logp[0]);
  });
  it('sum a verl token-sum as the plain masked sum', () => {
    const b = makeBatch({ B: 1, G: 2, T: 3, seed: 2, lengths: [2, 3] });
    expect(R.verlAgg(b, () => 1, 'token-sum').loss).toBe(5);
    expect(R.verlAgg(b, () => 1, 'seq-mean-token-mean').loss).toBeCloseTo(1, 6);
  });
});
