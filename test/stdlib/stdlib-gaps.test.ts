/**
 * The stdlib pipelines that close methods the method table marked "not yet", against independent
 * references written from the formulas (test/helpers/references-gaps.ts): loss, advantage and the
 * gradient of the loss in the fed log-probs within 1e-5 relative on cpu, on hand-sized batches
 * with padding, random batches, and each method's edge cases.
 */
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../runtime/backends/index.js';
import { validateBatch } from '../../runtime/eval/validate.js';
import { evaluate, type EvalOutputs } from '../../runtime/eval/evaluate.js';
import { makeSource, span } from '../../grammar/source.js';
import type { RefBatch, Reference } from '../helpers/references.js';
import { cgpo, directAdvantagePo, guide, ldDpo, spoTree, srpo } from '../helpers/references-gaps.js';
import { entriesFor, firstMiss, makeBatch, pipelineWith, referenceGrad, stdlibPipeline, type BatchSpec } from '../helpers/stdlib-harness.js';
import { rng } from '../helpers/random-batch.js';
import type { BatchEntry } from '../../runtime/batch/read.js';

const TOL = 1e-5;
const here = span(makeSource('batch', ''), 0, 0);
type Feed = Record<string, number | { shape: number[]; data: Float64Array }>;


/** Evaluate `name` on the batch (without `reward` when ownReward: its reward stage reads `correct`) and compare loss, advantage and grad.logp with `ref`. */
async function check(name: string, ref: Reference, b: RefBatch, extra: Feed = {}, set: Record<string, string> = {}, ownReward = false): Promise<EvalOutputs> {
  const entries: BatchEntry[] = entriesFor(stdlibPipeline(name), b, extra).filter((e) => !ownReward || e.name !== 'reward');
  const p = pipelineWith(name, set);
  const v = validateBatch(p.ir, entries, { set, grad: ['logp'], allowNonfinite: false, fileSpan: here });
  if (v.valid === null) throw new Error(v.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '));
  const { tf } = await useBackend('cpu');
  const out = await evaluate(tf, 'cpu', v.valid, ['logp']);
  const want = ref(b, b.logp);
  const loss = out['loss']!.data[0]!;
  expect(Math.abs(loss - want.loss) <= TOL * Math.max(Math.abs(want.loss), want.scale, 1e-6), `loss ${loss} vs ${want.loss} (scale ${want.scale})`).toBe(true);
  if (want.A !== undefined) {
    const got = (out['advantage.A'] ?? out['advantage'])!.data;
    const onTokens = got.length === b.mask.length;
    const keep = (x: ArrayLike<number>): number[] => Array.from(x).filter((_, k) => !onTokens || b.mask[k] !== 0);
    expect(firstMiss(keep(got), keep(want.A), TOL, 1e-2, TOL * (want.AScale ?? 0)), 'advantage').toBeNull();
  }
  const g = out['grad.logp']!.data;
  b.mask.forEach((m, k) => {
    if (m === 0) expect(Math.abs(g[k]!), `grad on padding [${k}]`).toBe(0);
  });
  const fd = referenceGrad(ref, b);
  const maxAbs = (x: ArrayLike<number>): number => Array.from(x).reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  expect(firstMiss(g, fd, TOL, 1e-2, 1e-9 * Math.max(1, want.scale) + 1e-6 * maxAbs(fd)), 'grad.logp').toBeNull();
  return out;
}

const pairsSpec: Record<string, BatchSpec> = {
  'a hand-sized batch with padding': { B: 3, G: 2, T: 5, seed: 11, lengths: [5, 3, 1, 4, 2, 2], spread: 2 },
  'random batch 1': { B: 4, G: 2, T: 6, seed: 1, spread: 2 },
  'random batch 2': { B: 5, G: 2, T: 4, seed: 2, spread: 2 },
};

describe('ld_dpo against its reference', () => {
  for (const [label, spec] of Object.entries(pairsSpec)) {
    it(label, async () => {
      const b = makeBatch(spec);
      await check('ld_dpo', ldDpo(0.3), b, {}, { ld_alpha: '0.3' });
      await check('ld_dpo', ldDpo(1), b);
    });
  }
  it('ld_alpha 0 drops the excess tokens (their gradient is 0); equal lengths and an empty rejected row', async () => {
    const b = makeBatch({ B: 3, G: 2, T: 6, seed: 31, lengths: [6, 2, 4, 4, 5, 0], spread: 2 });
    const out = await check('ld_dpo', ldDpo(0), b, {}, { ld_alpha: '0' });
    const g = out['grad.logp']!.data;
    for (let t = 2; t < 6; t++) expect(g[t]).toBe(0);
    expect(g[0]).not.toBe(0);
    for (let t = 0; t < 5; t++) expect(g[4 * 6 + t]).toBe(0);
    await check('ld_dpo', ldDpo(0.5, 0.5, 0.1), b, {}, { ld_alpha: '0.5', beta: '0.5', label_smoothing: '0.1' });
  });
});

const tensorOf = (shape: number[], f: (i: number) => number): { shape: number[]; data: Float64Array } => ({
  shape, data: Float64Array.from({ length: shape.reduce((a, v) => a * v, 1) }, (_, i) => Math.fround(f(i))),
});

const groupSpecs: Record<string, BatchSpec> = {
  'a hand-sized batch with padding': { B: 2, G: 4, T: 5, seed: 11, lengths: [5, 3, 1, 4, 2, 5, 5, 3] },
  'random batch 1': { B: 3, G: 4, T: 6, seed: 1, reward: (r) => r() },
  'random batch 2': { B: 4, G: 6, T: 4, seed: 2 },
  'a fully masked row': { B: 2, G: 4, T: 5, seed: 5, lengths: [3, 0, 5, 2, 1, 4, 0, 5], reward: (r) => r() },
};

describe('guide against its reference', () => {
  const inputs = (b: RefBatch, seed: number, p: number): { guided: ReturnType<typeof tensorOf>; hinted: ReturnType<typeof tensorOf> } => {
    const r = rng(seed);
    const guided = tensorOf([b.B, b.G], () => (r() < p ? 1 : 0));
    // The hint makes the sampled tokens likelier: the hinted log-prob is above logp by up to 0.6.
    const hinted = tensorOf([b.B, b.G, b.T], (j) => (b.mask[j] === 0 ? 0 : b.logp[j]! + 0.6 * r() - 0.1));
    return { guided, hinted };
  };
  for (const [label, spec] of Object.entries(groupSpecs)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const x = inputs(b, spec.seed + 17, 0.5);
      await check('guide', guide(x.guided.data, x.hinted.data), b, { guided: x.guided, hinted_logp: x.hinted });
    });
  }
  it('no guided completion is GRPO; all guided ignores old_logp (ratios far outside the trust region clip)', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 5, seed: 61 });
    const none = inputs(b, 62, 0);
    await check('guide', guide(none.guided.data, none.hinted.data), b, { guided: none.guided, hinted_logp: none.hinted });
    const all = inputs(b, 63, 1.1);
    const far = tensorOf([b.B, b.G, b.T], (j) => (b.mask[j] === 0 ? 0 : b.logp[j]! + (j % 2 === 0 ? 2 : -2)));
    const wild = { ...b, old_logp: b.old_logp.map((v, j) => (b.mask[j] === 0 ? v : Math.fround(v + 50))) };
    await check('guide', guide(all.guided.data, far.data), wild, { guided: all.guided, hinted_logp: far });
  });
});

describe('direct_advantage_po against its reference', () => {
  const S = 3;
  const inputs = (b: RefBatch, seed: number, drop: number): { x: Parameters<typeof directAdvantagePo>[0]; feed: Feed } => {
    const r = rng(seed);
    const before = tensorOf([b.B, b.G, S], () => r());
    const after = tensorOf([b.B, b.G, S], () => r());
    const stepMask = tensorOf([b.B, b.G, S], (i) => (i % S === S - 1 && r() < drop ? 0 : 1));
    const stepOf = tensorOf([b.B, b.G, b.T], (i) => Math.min(S - 1, Math.floor(((i % b.T) * S) / b.T)));
    return {
      x: { S, stepOf: stepOf.data, before: before.data, after: after.data, stepMask: stepMask.data },
      feed: { step_of: stepOf, value_before: before, value_after: after, step_mask: stepMask },
    };
  };
  for (const [label, spec] of Object.entries(groupSpecs)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const { x, feed } = inputs(b, spec.seed + 23, 0.4);
      await check('direct_advantage_po', directAdvantagePo(x), b, feed);
    });
  }
  it('tokens of a masked step get no gradient; no step at all gives loss 0; another beta', async () => {
    const b = makeBatch({ B: 2, G: 2, T: 6, seed: 71, lengths: [6, 6, 4, 6] });
    const { x, feed } = inputs(b, 72, 2);
    const out = await check('direct_advantage_po', directAdvantagePo(x, 0.5), b, feed, { beta: '0.5' });
    const g = out['grad.logp']!.data;
    for (let t = 4; t < 6; t++) expect(g[t]).toBe(0);
    expect(g[0]).not.toBe(0);
    const none = tensorOf([b.B, b.G, S], () => 0);
    const empty = await check('direct_advantage_po', directAdvantagePo({ ...x, stepMask: none.data }), b, { ...feed, step_mask: none });
    expect(empty['loss']!.data[0]).toBe(0);
  });
});

describe('cgpo against its reference', () => {
  const K = 3;
  const inputs = (b: RefBatch, seed: number, pFail: number): { correct: ReturnType<typeof tensorOf>; judges: ReturnType<typeof tensorOf> } => {
    const r = rng(seed);
    const correct = tensorOf([b.B, b.G], () => r());
    const judges = tensorOf([b.B, b.G, K], () => (r() < pFail ? 0 : 1));
    return { correct, judges };
  };
  for (const [label, spec] of Object.entries(groupSpecs)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const x = inputs(b, spec.seed + 29, 0.2);
      await check('cgpo', cgpo(x.correct.data, x.judges.data, K), b, { correct: x.correct, judges: x.judges }, {}, true);
    });
  }
  it('every judge passing is GRPO on correct; a group failing every judge has A = 0; a negative violation reward', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 5, seed: 81 });
    const x = inputs(b, 82, 0);
    await check('cgpo', cgpo(x.correct.data, x.judges.data, K), b, { correct: x.correct, judges: x.judges }, {}, true);
    // Group 0 fails everywhere (one judge each), group 1 mixes.
    const judges = tensorOf([b.B, b.G, K], (i) => (Math.floor(i / K) < 4 ? (i % K === 1 ? 0 : 1) : (i % 2)));
    const out = await check('cgpo', cgpo(x.correct.data, judges.data, K), b, { correct: x.correct, judges }, {}, true);
    for (let s = 0; s < 4; s++) expect(out['advantage.A']!.data[s]).toBe(0);
    expect(Array.from(out['reward.violated']!.data.slice(0, 4))).toEqual([1, 1, 1, 1]);
    await check('cgpo', cgpo(x.correct.data, judges.data, K, -1), b, { correct: x.correct, judges }, { violation: '-1' }, true);
  });
});

describe('spo_tree against its reference', () => {
  const inputs = (b: RefBatch, seed: number, parents: number): { parent: ReturnType<typeof tensorOf>; value: ReturnType<typeof tensorOf> } => {
    const r = rng(seed);
    return { parent: tensorOf([b.B, b.G], () => Math.floor(r() * parents)), value: tensorOf([b.B, b.G], () => r()) };
  };
  for (const [label, spec] of Object.entries(groupSpecs)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const x = inputs(b, spec.seed + 31, 2);
      await check('spo_tree', spoTree(x.parent.data, x.value.data), b, { parent: x.parent, value: x.value });
      await check('spo_tree', spoTree(x.parent.data, x.value.data, true), b, { parent: x.parent, value: x.value }, { std_norm: 'true' });
    });
  }
  it('singleton edges and equal sibling values have A = 0 and are dropped (no gradient); every edge dropped gives loss 0', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 5, seed: 91, lengths: [5, 5, 5, 5, 4, 4, 4, 4] });
    const parent = tensorOf([2, 4], (i) => [0, 1, 1, 2, 0, 0, 1, 1][i]!);
    const value = tensorOf([2, 4], (i) => [0.3, 0.5, 0.5, 0.7, 0.2, 0.6, 0.1, 0.9][i]!);
    const out = await check('spo_tree', spoTree(parent.data, value.data), b, { parent, value });
    const g = out['grad.logp']!.data;
    for (let t = 0; t < 20; t++) expect(g[t]).toBe(0);
    expect(g[20]).not.toBe(0);
    const single = tensorOf([2, 4], (i) => i);
    const none = await check('spo_tree', spoTree(single.data, value.data), b, { parent: single, value });
    expect(none['loss']!.data[0]).toBe(0);
  });
});

describe('srpo against its reference', () => {
  const inputs = (b: RefBatch, seed: number): { rev: ReturnType<typeof tensorOf>; revRef: ReturnType<typeof tensorOf> } => {
    const r = rng(seed);
    const rev = tensorOf([b.B, b.G, b.T], (j) => (b.mask[j] === 0 ? 0 : -2 * r()));
    const revRef = tensorOf([b.B, b.G, b.T], (j) => (b.mask[j] === 0 ? 0 : -2 * r()));
    return { rev, revRef };
  };
  for (const [label, spec] of Object.entries(pairsSpec)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const x = inputs(b, spec.seed + 5);
      await check('srpo', srpo(x.rev.data, x.revRef.data), b, { rev_logp: x.rev, rev_ref_logp: x.revRef });
      await check('srpo', srpo(x.rev.data, x.revRef.data, 0.3, 0.5), b, { rev_logp: x.rev, rev_ref_logp: x.revRef }, { rev_weight: '0.3', beta: '0.5' });
    });
  }
  it('rev_weight 0 is IPO on the summed log-ratios; the revision term does not reach grad.logp', async () => {
    const b = makeBatch({ B: 3, G: 2, T: 5, seed: 71, spread: 2 });
    const x = inputs(b, 72);
    const zero = await check('srpo', srpo(x.rev.data, x.revRef.data, 0), b, { rev_logp: x.rev, rev_ref_logp: x.revRef }, { rev_weight: '0' });
    const shifted = { rev_logp: tensorOf([b.B, b.G, b.T], (j) => x.rev.data[j]! + (b.mask[j] === 0 ? 0 : 1)), rev_ref_logp: x.revRef };
    const other = await check('srpo', srpo(shifted.rev_logp.data, x.revRef.data, 0), b, shifted, { rev_weight: '0' });
    expect(Array.from(other['grad.logp']!.data)).toEqual(Array.from(zero['grad.logp']!.data));
  });
});
