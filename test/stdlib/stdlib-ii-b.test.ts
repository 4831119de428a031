/**
 * Standard library II, second part, against independent references written from the formulas
 * (test/helpers/references-ii-b.ts): loss, advantage and the gradient of the loss in the fed
 * log-probs within 1e-5 relative on cpu, on hand-sized batches with padding, random batches, and
 * each method's edge cases.
 */
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../runtime/backends/index.js';
import { validateBatch } from '../../runtime/eval/validate.js';
import { evaluate, type EvalOutputs } from '../../runtime/eval/evaluate.js';
import { makeSource, span } from '../../grammar/source.js';
import type { RefBatch, Reference } from '../helpers/references.js';
import { aspo, brpo, dno, gigpo, mctsDpo, smpo, grpoLambda, mdpoDiffusion, pfKeep, pfPpo, rto, spoChain, tPpo, trpa, type DiffusionBatch } from '../helpers/references-ii-b.js';
import { entriesFor, firstMiss, makeBatch, pipelineWith, referenceGrad, stdlibPipeline, type BatchSpec } from '../helpers/stdlib-harness.js';
import { rng } from '../helpers/random-batch.js';
import type { BatchEntry } from '../../runtime/batch/read.js';

const TOL = 1e-5;
const here = span(makeSource('batch', ''), 0, 0);
type Feed = Record<string, number | { shape: number[]; data: Float64Array }>;


async function evalEntries(name: string, entries: BatchEntry[], set: Record<string, string>, grad: string): Promise<EvalOutputs> {
  const p = pipelineWith(name, set);
  const v = validateBatch(p.ir, entries, { set, grad: [grad], allowNonfinite: false, fileSpan: here });
  if (v.valid === null) throw new Error(v.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '));
  const { tf } = await useBackend('cpu');
  return evaluate(tf, 'cpu', v.valid, [grad]);
}

/** Evaluate `name` on the batch (without `reward` when ownReward: its reward stage reads `correct`) and compare with `ref`. */
async function check(name: string, ref: Reference, b: RefBatch, extra: Feed = {}, set: Record<string, string> = {}, ownReward = false): Promise<EvalOutputs> {
  const entries = entriesFor(stdlibPipeline(name), b, extra).filter((e) => !ownReward || e.name !== 'reward');
  const out = await evalEntries(name, entries, set, 'logp');
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
  const inherited = want.AScale !== undefined && want.A !== undefined ? (TOL * want.AScale * maxAbs(fd)) / Math.max(maxAbs(want.A), 1e-12) : 0;
  expect(firstMiss(g, fd, TOL, 1e-2, 1e-9 * Math.max(1, want.scale) + inherited + 1e-6 * maxAbs(fd)), 'grad.logp').toBeNull();
  return out;
}

const common: Record<string, BatchSpec> = {
  'a hand-sized batch with padding': { B: 2, G: 4, T: 5, seed: 11, lengths: [5, 3, 1, 4, 2, 5, 5, 3] },
  'random batch 1': { B: 3, G: 4, T: 6, seed: 1, reward: (r) => r() },
  'random batch 2': { B: 4, G: 6, T: 4, seed: 2 },
  'a fully masked row': { B: 2, G: 4, T: 5, seed: 5, lengths: [3, 0, 5, 2, 1, 4, 0, 5], reward: (r) => r() },
};

const tensorOf = (shape: number[], f: (i: number) => number): { shape: number[]; data: Float64Array } => ({
  shape, data: Float64Array.from({ length: shape.reduce((a, v) => a * v, 1) }, (_, i) => Math.fround(f(i))),
});

/** The batch with some tokens made likely under the old policy (probability 0.99 > 0.9). */
function withLikelyTokens(b: RefBatch, every: number): RefBatch {
  const old = b.old_logp.map((v, k) => (b.mask[k] !== 0 && k % every === 1 ? Math.fround(-0.01) : v));
  return { ...b, old_logp: old };
}

describe('spo_chain against its reference', () => {
  for (const [label, spec] of Object.entries(common)) {
    it(label, async () => {
      const b = withLikelyTokens(makeBatch(spec), 3);
      const r = rng(spec.seed + 100);
      const value = tensorOf([b.B, b.G, b.T], () => r());
      await check('spo_chain', spoChain(value.data, 5), b, { prefix_value: value });
    });
  }
  it('with interval 1 (every low-probability token is a cut) and interval 2', async () => {
    const b = withLikelyTokens(makeBatch({ B: 2, G: 3, T: 8, seed: 21, lengths: [8, 6, 7, 8, 3, 5] }), 4);
    const r = rng(22);
    const value = tensorOf([b.B, b.G, b.T], () => r());
    await check('spo_chain', spoChain(value.data, 1), b, { prefix_value: value }, { interval: '1' });
    await check('spo_chain', spoChain(value.data, 2), b, { prefix_value: value }, { interval: '2' });
  });
  it('a first token that is a cut uses the prompt value; a first likely token leaves the first segment at 0', async () => {
    const b0 = makeBatch({ B: 1, G: 2, T: 6, seed: 23, lengths: [6, 6] });
    // Row 0: token 0 likely (no prompt value); row 1: token 0 unlikely (a cut with the prompt's value).
    const old = Float64Array.from(b0.old_logp);
    old[0] = Math.fround(-0.01);
    const b = { ...b0, old_logp: old };
    const value = tensorOf([1, 2, 6], (i) => 0.1 * i);
    const out = await check('spo_chain', spoChain(value.data, 2), b, { prefix_value: value }, { interval: '2' });
    expect(out['advantage.raw']!.data[1]).not.toBe(0);
  });
});

describe('gigpo against its reference', () => {
  const S = 3;
  const inputs = (b: RefBatch, seed: number, anchors: number): { x: Parameters<typeof gigpo>[0]; feed: Feed } => {
    const r = rng(seed);
    const stepReward = tensorOf([b.B, b.G, S], () => r() - 0.3);
    const anchor = tensorOf([b.B, b.G, S], () => Math.floor(r() * anchors));
    const stepMask = tensorOf([b.B, b.G, S], (i) => (i % S === S - 1 && r() < 0.4 ? 0 : 1));
    const stepOf = tensorOf([b.B, b.G, b.T], (i) => Math.min(S - 1, Math.floor(((i % b.T) * S) / b.T)));
    return {
      x: { S, stepReward: stepReward.data, anchor: anchor.data, stepMask: stepMask.data, stepOf: stepOf.data },
      feed: { step_reward: stepReward, anchor, step_mask: stepMask, step_of: stepOf },
    };
  };
  for (const [label, spec] of Object.entries(common)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const { x, feed } = inputs(b, spec.seed + 7, 3);
      await check('gigpo', gigpo(x), b, feed);
    });
  }
  it('every anchor a singleton (step advantage 0), and one anchor state for all steps', async () => {
    const b = makeBatch({ B: 2, G: 3, T: 6, seed: 41 });
    const { x, feed } = inputs(b, 42, 1);
    await check('gigpo', gigpo(x), b, feed);
    const unique = tensorOf([b.B, b.G, S], (i) => i);
    await check('gigpo', gigpo({ ...x, anchor: unique.data }), b, { ...feed, anchor: unique });
  });
  it('without the std (mean_norm) and with another gamma and omega', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 5, seed: 43 });
    const { x, feed } = inputs(b, 44, 2);
    await check('gigpo', gigpo(x, 0.5, 2, false), b, feed, { step_std: 'false', gamma: '0.5', omega: '2' });
  });
});

describe('brpo against its reference', () => {
  const budgets = [2, 3, 5];
  const feed = (b: RefBatch, seed: number): { r: Float64Array; feed: Feed } => {
    const r = rng(seed);
    const br = tensorOf([b.B, b.G, budgets.length], () => (r() < 0.5 ? 0 : r()));
    return { r: br.data, feed: { budget_reward: br, budgets: tensorOf([budgets.length], (i) => budgets[i]!) } };
  };
  for (const [label, spec] of Object.entries(common)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const x = feed(b, spec.seed + 3);
      await check('brpo', brpo(x.r, budgets), b, x.feed);
    });
  }
  it('with the uniform and the last-only priors, and tokens past the last budget (A = 0)', async () => {
    const b = makeBatch({ B: 2, G: 3, T: 7, seed: 51, lengths: [7, 6, 2, 7, 5, 4] });
    const x = feed(b, 52);
    await check('brpo', brpo(x.r, budgets, 'uniform'), b, x.feed, { prior: 'uniform' });
    await check('brpo', brpo(x.r, budgets, 'last'), b, x.feed, { prior: 'last' });
  });
});

describe('aspo against its reference', () => {
  const firstCall = (b: RefBatch, seed: number): { shape: number[]; data: Float64Array } => {
    const r = rng(seed);
    return tensorOf([b.B, b.G], () => (r() < 0.3 ? -1 : Math.floor(r() * b.T)));
  };
  for (const [label, spec] of Object.entries(common)) {
    it(label, async () => {
      const b = makeBatch({ ...spec, reward: (r) => (r() < 0.6 ? 1 : 0) });
      const fc = firstCall(b, spec.seed + 9);
      await check('aspo', aspo(fc.data), b, { first_call: fc });
    });
  }
  it('no tool calls anywhere: GRPO unchanged; one eligible sample: no bias', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 5, seed: 61, reward: (_, i) => [1, 0, 1, 1, 0, 1, 0, 0][i]! });
    const none = tensorOf([2, 4], () => -1);
    await check('aspo', aspo(none.data), b, { first_call: none });
    const one = tensorOf([2, 4], (i) => (i === 0 || i === 5 ? 2 : -1));
    await check('aspo', aspo(one.data), b, { first_call: one });
  });
});

describe('grpo_lambda against its reference', () => {
  for (const [label, spec] of Object.entries(common)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const r = rng(spec.seed + 13);
      const correct = tensorOf([b.B, b.G], () => (r() < 0.6 ? 1 : 0));
      await check('grpo_lambda', grpoLambda(correct.data), b, { correct }, {}, true);
    });
  }
  it('all groups correct (length penalty everywhere) and all wrong (plain 0/1)', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 6, seed: 71 });
    const all = tensorOf([2, 4], () => 1);
    await check('grpo_lambda', grpoLambda(all.data), b, { correct: all }, {}, true);
    const none = tensorOf([2, 4], () => 0);
    await check('grpo_lambda', grpoLambda(none.data), b, { correct: none }, {}, true);
  });
});

describe('t_ppo against its reference', () => {
  for (const [label, spec] of Object.entries(common)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const r = rng(spec.seed + 17);
      const truncated = tensorOf([b.B, b.G], () => (r() < 0.5 ? 1 : 0));
      const boot = tensorOf([b.B, b.G], () => 2 * r() - 1);
      await check('t_ppo', tPpo(truncated.data, boot.data), b, { truncated, bootstrap_value: boot });
    });
  }
  it('no truncated response equals ppo (bootstrap ignored)', async () => {
    const b = makeBatch({ B: 2, G: 3, T: 5, seed: 81 });
    const zero = tensorOf([2, 3], () => 0);
    const boot = tensorOf([2, 3], () => 5);
    await check('t_ppo', tPpo(zero.data, boot.data), b, { truncated: zero, bootstrap_value: boot });
  });
});

describe('rto against its reference', () => {
  for (const [label, spec] of Object.entries(common)) {
    it(label, async () => {
      const b = makeBatch({ ...spec, reward: (r) => 30 * r() - 15 });
      const r = rng(spec.seed + 19);
      const dpo = tensorOf([b.B, b.G, b.T], (i) => b.ref_logp[i]! + 2 * (r() - 0.5));
      await check('rto', rto(dpo.data), b, { dpo_logp: dpo });
    });
  }
});

describe('pf_ppo against its reference', () => {
  for (const filter of ['bon', 'br', 'bw'] as const) {
    for (const [label, spec] of Object.entries(common)) {
      it(`${filter}: ${label}`, async () => check('pf_ppo', pfPpo(filter), makeBatch(spec), {}, { filter }));
    }
    it(`${filter}: all rewards equal, and groups of one sample`, async () => {
      await check('pf_ppo', pfPpo(filter), makeBatch({ B: 2, G: 4, T: 5, seed: 91, reward: () => 1 }), {}, { filter });
      await check('pf_ppo', pfPpo(filter), makeBatch({ B: 3, G: 1, T: 5, seed: 92 }), {}, { filter });
    });
  }
  it('keeps one other in BR when the other completions are identical (their hashes tie)', async () => {
    const b0 = makeBatch({ B: 1, G: 4, T: 3, seed: 94, lengths: [3, 3, 3, 3], reward: (_, i) => [1, 0, 0, 0][i]! });
    const same = (x: Float64Array): Float64Array => x.map((v, k) => (k >= 3 ? x[3 + (k % 3)]! : v));
    const b = { ...b0, logp: same(b0.logp), old_logp: same(b0.old_logp), ref_logp: same(b0.ref_logp) };
    const out = await check('pf_ppo', pfPpo('br'), b, {}, { filter: 'br' });
    expect(Array.from(out['advantage.keep']!.data)).toEqual([1, 1, 0, 0]);
  });
  it('keeps the first best, the first worst, and one other', () => {
    const b = makeBatch({ B: 1, G: 5, T: 3, seed: 93, reward: (_, i) => [0, 1, 1, 0, 0.5][i]! });
    expect(Array.from(pfKeep(b, 'bon'))).toEqual([0, 1, 0, 0, 0]);
    expect(Array.from(pfKeep(b, 'bw'))).toEqual([1, 1, 0, 0, 0]);
    expect(Array.from(pfKeep(b, 'br')).reduce((a, v) => a + v, 0)).toBe(2);
  });
});

describe('trpa against its reference', () => {
  const levels = (B: number, G: number, seed: number): { shape: number[]; data: Float64Array } => {
    const r = rng(seed);
    return tensorOf([B, G], () => 1 + Math.floor(r() * 4));
  };
  for (const [label, spec] of Object.entries(common)) {
    it(label, async () => {
      const b = makeBatch(spec);
      const level = levels(b.B, b.G, spec.seed + 23);
      await check('trpa', trpa(level.data), b, { level });
    });
  }
  it('a group with no cross-level pairs beside one with pairs', async () => {
    const b = makeBatch({ B: 2, G: 4, T: 5, seed: 101 });
    const level = tensorOf([2, 4], (i) => (i < 4 ? 2 : [1, 2, 2, 4][i - 4]!));
    const out = await check('trpa', trpa(level.data), b, { level });
    expect(out['loss.frac_groups_without_pairs']!.data[0]).toBe(0.5);
  });
  it('no pair in the whole batch: the fallback mean of -log sigmoid(+-l)', async () => {
    const b = makeBatch({ B: 2, G: 3, T: 5, seed: 102 });
    const level = tensorOf([2, 3], (i) => (i < 3 ? 1 : 3));
    await check('trpa', trpa(level.data), b, { level });
  });
});

describe('mdpo_diffusion against its reference', () => {
  function diffusionBatch(B: number, G: number, S: number, T: number, seed: number): DiffusionBatch {
    const r = rng(seed);
    const n = B * G * S * T;
    const mask = Float64Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0));
    const logp = Float64Array.from({ length: n }, () => Math.fround(-0.05 - 2 * r()));
    const oldLogp = logp.map((v) => Math.fround(v + 0.3 * (r() - 0.5)));
    const reward = Float64Array.from({ length: B * G * S }, () => Math.fround(r() < 0.5 ? 0 : r()));
    const weight = Float64Array.from({ length: B * G * S }, () => Math.fround(1 + 3 * r()));
    return { B, G, S, T, logp, oldLogp, mask, reward, weight };
  }
  async function checkDiffusion(d: DiffusionBatch, top: number): Promise<void> {
    const t4 = [d.B, d.G, d.T, d.S];
    const t3 = [d.B, d.G, d.S];
    const entries: BatchEntry[] = [
      ['step_logp', t4, d.logp], ['step_old_logp', t4, d.oldLogp], ['step_mask', t4, d.mask], ['step_reward', t3, d.reward], ['step_weight', t3, d.weight],
    ].map(([name, shape, data]) => ({ name: name as string, tensor: { shape: shape as number[], data: data as Float64Array }, span: here }));
    const out = await evalEntries('mdpo_diffusion', entries, { top_steps: String(top) }, 'step_logp');
    const want = mdpoDiffusion(d, d.logp, top);
    const loss = out['loss']!.data[0]!;
    expect(Math.abs(loss - want.loss) <= TOL * Math.max(Math.abs(want.loss), want.scale, 1e-6), `loss ${loss} vs ${want.loss}`).toBe(true);
    expect(firstMiss(out['advantage.A']!.data, want.A, TOL, 1e-2, 1e-6), 'advantage').toBeNull();
    const fd = new Float64Array(d.logp.length);
    for (let k = 0; k < fd.length; k++) {
      if (d.mask[k] === 0) continue;
      const up = Float64Array.from(d.logp);
      const dn = Float64Array.from(d.logp);
      up[k]! += 1e-6;
      dn[k]! -= 1e-6;
      fd[k] = (mdpoDiffusion(d, up, top).loss - mdpoDiffusion(d, dn, top).loss) / 2e-6;
    }
    expect(firstMiss(out['grad.step_logp']!.data, fd, TOL, 1e-2, 1e-9), 'grad.step_logp').toBeNull();
  }
  it('a hand-sized batch (B 2, G 3, S 4, T 3)', async () => checkDiffusion(diffusionBatch(2, 3, 4, 3, 1), 16));
  it('a random batch training only the top 2 steps of each prompt', async () => checkDiffusion(diffusionBatch(3, 4, 5, 2, 2), 2));
  it('one denoising step (the last step is the only one)', async () => checkDiffusion(diffusionBatch(2, 4, 1, 4, 3), 16));
});

describe('preference losses: smpo, mcts_dpo, dno against their references', () => {
  const pairs: Record<string, BatchSpec> = {
    'a hand-sized batch of pairs with padding': { B: 3, G: 2, T: 5, seed: 111, lengths: [5, 3, 1, 4, 2, 5] },
    'a random batch of pairs': { B: 5, G: 2, T: 4, seed: 112, spread: 1.5 },
  };
  for (const [label, spec] of Object.entries(pairs)) {
    it(`smpo: ${label}`, async () => {
      const b = makeBatch(spec);
      const r = rng(spec.seed + 1);
      const scores = tensorOf([b.B, 2], () => 0.1 + 0.2 * r());
      await check('smpo', smpo(scores.data, 0.1, 0.3), b, { scores }, { s_min: '0.1', s_max: '0.3' });
    });
    it(`mcts_dpo: ${label}`, async () => {
      const b = makeBatch(spec);
      const r = rng(spec.seed + 2);
      const visits = tensorOf([b.B, 2], () => Math.floor(10 * r()));
      await check('mcts_dpo', mctsDpo(visits.data), b, { visits });
    });
    it(`dno: ${label}`, async () => {
      const b = makeBatch(spec);
      const r = rng(spec.seed + 3);
      const iter = tensorOf([b.B, 2, b.T], (i) => (b.mask[i] === 0 ? 1e4 : b.logp[i]! + 0.6 * (r() - 0.5)));
      const m = tensorOf([b.B], () => r());
      await check('dno', dno(iter.data, m.data, 0.4), b, { iter_logp: iter, margin: m }, { min_margin: '0.4' });
    });
  }
  it('smpo: a tie (equal scores) gives no loss gradient; mcts_dpo: unvisited children; dno: no pair kept', async () => {
    const b = makeBatch({ B: 2, G: 2, T: 4, seed: 113 });
    const tie = tensorOf([2, 2], () => 0.5);
    const out = await check('smpo', smpo(tie.data), b, { scores: tie });
    expect(Array.from(out['grad.logp']!.data).every((v) => v === 0)).toBe(true);
    const zero = tensorOf([2, 2], () => 0);
    await check('mcts_dpo', mctsDpo(zero.data), b, { visits: zero });
    const iter = tensorOf([2, 2, 4], (i) => (b.mask[i] === 0 ? 1e4 : b.logp[i]! - 0.1));
    const low = tensorOf([2], () => 0.1);
    await check('dno', dno(iter.data, low.data, 0.5), b, { iter_logp: iter, margin: low }, { min_margin: '0.5' });
  });
});
