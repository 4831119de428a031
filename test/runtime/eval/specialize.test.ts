/**
 * Count tests (not timings) of what a training step computes after the passes: the loss-only
 * plan's computed steps and the TF.js kernels of one loss + gradient, pinned for grpo and dpo,
 * against -O0.
 */
import { describe, expect, it } from 'vitest';
import { makeSource, span } from '../../../grammar/source.js';
import { useBackend } from '../../../runtime/backends/index.js';
import { buildPlan } from '../../../runtime/exec/plan.js';
import { profileEval } from '../../../runtime/eval/profile.js';
import { specializeBatch } from '../../../runtime/eval/specialize.js';
import { validateBatch } from '../../../runtime/eval/validate.js';
import { entriesFor, makeBatch, stdlibPipeline } from '../../helpers/stdlib-harness.js';

const here = span(makeSource('batch', ''), 0, 0);

async function counts(name: string, optimized: boolean) {
  const p = stdlibPipeline(name);
  const pref = name === 'dpo';
  const b = makeBatch(pref ? { B: 3, G: 2, T: 5, seed: 1 } : { B: 2, G: 4, T: 5, seed: 1, reward: (r) => r() });
  const v = validateBatch(p.raw, entriesFor(p, b), { set: pref ? {} : { group: '4' }, grad: ['logp'], allowNonfinite: false, fileSpan: here });
  const vb = specializeBatch(p, v.valid!, optimized);
  const plan = buildPlan(vb.plan.graph, [...vb.plan.fed.keys()], ['loss']);
  const steps = plan.steps.filter((s) => s.fed === null && s.op.lower !== undefined && !s.op.traits.includes('source'));
  const { tf } = await useBackend('cpu');
  const prof = await profileEval(tf, 'cpu', vb, ['logp']);
  return { steps: steps.length, fused: steps.filter((s) => s.node.op === 'fused').length, kernels: prof.kernels.length };
}

describe('after fusion', () => {
  // grpo: count, mean and std of the rewards over G (per prompt, [B]), the fused advantage (an
  // output a trainer feeds to micro-batches, so its own region), the fused loss region (ratio,
  // clipped surrogate, k3 KL, masked mean over T, sum over B,G) and the division by the number of
  // rows; the gradient of a fused region is one generated kernel, recorded as one `FusedBackward`
  // kernel (runs in JS on the tensors' memory, so --profile shows its time), and a region the gradient flows
  // through keeps its inputs for it (9 saved inputs: one Identity each, sharing memory). At -O0, 317
  // kernels: the profiler also records each tf.customGrad op as one kernel (named after its scope),
  // and since comparisons lower gradient-free through tf.customGrad, the loss path's three
  // comparisons (`lt`, `gt`, `and`) add one record each to the 314 counted before that change.
  // grpo's `agg` and `loss.tokens` add nothing here (the pre-agg grpo.rlp counts 34 / 0 / 317 too).
  // A fused region no gradient reaches (grpo's advantage) runs its kernel without tf.customGrad,
  // so the profiler records no scope op for it (98 kernels before that change, 97 then). Since
  // optimized plans evaluate small gradient-free steps on the host (runtime/exec/host-steps.ts),
  // the count, mean, std and fused advantage over [B,G] and the count of rows are one
  // `HostSteps` kernel instead of 81 small TF.js kernels: 17.

  it('grpo computes its loss in 7 plan steps, 2 of them fused, and 17 kernels with the gradient', async () => {
    expect(await counts('grpo', true)).toEqual({ steps: 7, fused: 2, kernels: 17 });
    expect(await counts('grpo', false)).toEqual({ steps: 34, fused: 0, kernels: 317 });
  });

  // dpo: the chosen/rejected sequence log-ratios (masked sums over T, each one fused kernel; take
  // G=0 and G=1), then one fused region for the sigmoid loss and its sum, and the division by the
  // number of pairs. Two of the fused regions are on the gradient's path: one FusedBackward each;
  // the third, which no gradient reaches, runs without tf.customGrad (one scope record fewer: 43
  // before, 42 then), and now as a host step (runtime/exec/host-steps.ts): its generated kernel
  // in float64 as before, read and uploaded as one `HostSteps` kernel, where it launched none, so
  // the profile shows its time: 43.
  it('dpo computes its loss in 9 plan steps, 3 of them fused, and 43 kernels with the gradient', async () => {
    expect(await counts('dpo', true)).toEqual({ steps: 9, fused: 3, kernels: 43 });
    expect(await counts('dpo', false)).toEqual({ steps: 19, fused: 0, kernels: 129 });
  });
});
