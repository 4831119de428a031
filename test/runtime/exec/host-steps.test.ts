/**
 * Host steps (runtime/exec/host-steps.ts): an optimized plan evaluates its small gradient-free
 * steps in float64 on the host (on webgpu, only those that read host copies of fed values). Checked by what a run computes and by counts of
 * TF.js kernels (tf.profile), never by timings.
 */
import { describe, expect, it } from 'vitest';
import { makeSource, span } from '../../../grammar/source.js';
import { useBackend } from '../../../runtime/backends/index.js';
import { gradReach, type RunEnv } from '../../../runtime/exec/executor.js';
import { HOST_STEPS_KERNEL, HostSteps } from '../../../runtime/exec/host-steps.js';
import { lowerProgram } from '../../../runtime/exec/program.js';
import { evaluate, type EvalOutputs } from '../../../runtime/eval/evaluate.js';
import { profileEval } from '../../../runtime/eval/profile.js';
import { specializeBatch } from '../../../runtime/eval/specialize.js';
import { validateBatch, type ValidBatch } from '../../../runtime/eval/validate.js';
import { oracle, type Oracle } from '../../helpers/oracle.js';
import { pipelineBatch, policyLogp } from '../../helpers/pipeline-batch.js';
import { stdlibPipeline } from '../../helpers/stdlib-harness.js';

const here = span(makeSource('batch', ''), 0, 0);

/** A pipeline's optimized batch (host steps on), the same without them, and its float64 oracle. */
function batchOf(name: string, seed = 1): { on: ValidBatch; off: ValidBatch; wrt: string; judge: () => Oracle } {
  const p = stdlibPipeline(name);
  const wrt = policyLogp(p);
  const b = pipelineBatch(p, { seed, reward: (r) => r() });
  const v = validateBatch(p.raw, b.entries, { set: b.set, grad: [wrt], allowNonfinite: false, fileSpan: here });
  if (v.valid === null) throw new Error(v.diagnostics.map((d) => d.message).join('; '));
  const on = specializeBatch(p, v.valid);
  let o: Oracle | null = null;
  return { on, off: { ...on, plan: { ...on.plan, hostSmall: false } }, wrt, judge: () => (o ??= oracle(p.raw, b.entries, v.valid!.params)) };
}

/**
 * `a` (host steps) against `b` (none) within 1e-5 relative to max(|value|, 0.1 x the largest
 * |value|), for the scalar loss to max(|loss|, 1e-3), as the differential test compares. Where
 * they differ by more, b's float32 between small steps is to blame only if a is within the
 * tolerance of the float64 oracle and closer to it than b. mdpo_diffusion's ill-conditioned loss
 * is such a case (seed 1: -2.6094646e-3 with host steps, -2.6094925e-3 without, float64
 * -2.6094625e-3; see test/compiler/passes/differential.test.ts).
 */
function expectClose(name: string, a: EvalOutputs, b: EvalOutputs, judge: () => Oracle, wrt: string): void {
  for (const k of ['loss', 'advantage', `grad.${wrt}`]) {
    expect(a[k], `${name}: ${k}`).toBeDefined();
    const got = a[k]!.data;
    const base = b[k]!.data;
    const maxAbs = base.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let i = 0; i < base.length; i++) {
      const scale = base.length === 1 ? Math.max(Math.abs(base[i]!), 1e-3) : Math.max(Math.abs(base[i]!), 0.1 * maxAbs, 1e-12);
      if (Math.abs(got[i]! - base[i]!) <= 1e-5 * scale) continue;
      const want = k === `grad.${wrt}` ? judge().grad(wrt, i) : judge().value(k)![i]!;
      const why = `${name}: ${k}[${i}]: host ${got[i]}, without ${base[i]}, float64 ${want}`;
      expect(Math.abs(got[i]! - want) <= 1e-5 * scale && Math.abs(got[i]! - want) < Math.abs(base[i]! - want), why).toBe(true);
    }
  }
}

describe('host steps', () => {
  for (const name of ['grpo', 'dapo', 'mdpo_diffusion']) {
    it(`${name}: the same loss, advantage and gradient with fewer TF.js kernels`, async () => {
      const { tf } = await useBackend('cpu');
      const { on, off, wrt, judge } = batchOf(name);
      expect(on.plan.hostSmall).toBe(true);
      expectClose(name, await evaluate(tf, 'cpu', on, [wrt]), await evaluate(tf, 'cpu', off, [wrt]), judge, wrt);
      const withHost = await profileEval(tf, 'cpu', on, [wrt]);
      const without = await profileEval(tf, 'cpu', off, [wrt]);
      expect(without.kernels.some((k) => k.kernel === HOST_STEPS_KERNEL)).toBe(false);
      // Each run of host steps is one kernel, attributed to a plan step (not to the backward pass).
      const runs = withHost.kernels.filter((k) => k.kernel === HOST_STEPS_KERNEL);
      expect(runs.length).toBeGreaterThan(0);
      for (const k of runs) expect(k.step).toMatch(/^%\d+ /);
      expect(withHost.kernels.length).toBeLessThan(without.kernels.length);
    });
  }

  it('never hosts a step a gradient target reaches, however small', async () => {
    const { tf } = await useBackend('cpu');
    const { on, off, wrt, judge } = batchOf('grpo');
    const env: RunEnv = { tf, backend: 'cpu', sizes: on.sizes, feeds: new Map(), params: on.params };
    const plan = on.plan;
    const loss = plan.steps.find((s) => s.node.id === plan.outputs.get('loss'))!;
    const reaches = gradReach(plan, new Set([wrt]))!;
    expect(reaches.has(loss.node.id)).toBe(true);
    const host = HostSteps.of(plan, env, reaches)!;
    expect(host).not.toBeNull();
    for (const s of plan.steps) if (reaches.has(s.node.id)) expect(host.has(s), `%${s.node.id} ${s.node.op}`).toBe(false);
    // The loss is small (a scalar of a small batch): without a gradient to take, it is hosted.
    expect(HostSteps.of(plan, env, gradReach(plan, new Set()))!.has(loss)).toBe(true);
    // Unknown targets: nothing is hosted.
    expect(HostSteps.of(plan, env, null)).toBeNull();
    // And the gradient flows as without host steps.
    const a = await evaluate(tf, 'cpu', on, [wrt]);
    const b = await evaluate(tf, 'cpu', off, [wrt]);
    expect(a[`grad.${wrt}`]!.data.some((x) => x !== 0)).toBe(true);
    expectClose('grpo', a, b, judge, wrt);
  });

  it('-O0 plans never host; a device backend hosts only what reads host copies of fed values', async () => {
    const { tf } = await useBackend('cpu');
    const p = stdlibPipeline('grpo');
    const fed = ['logp', 'old_logp', 'ref_logp', 'mask', 'reward'];
    expect(lowerProgram(p, { level: 'O0' }).plan(fed, ['loss']).hostSmall).toBe(false);
    expect(lowerProgram(p, { level: 'default' }).plan(fed, ['loss']).hostSmall).toBe(true);
    expect(lowerProgram(p, { level: 'specialize' }).plan(fed, ['loss']).hostSmall).toBe(true);
    const { on } = batchOf('grpo');
    const env: RunEnv = { tf, backend: 'cpu', sizes: on.sizes, feeds: new Map(), params: on.params };
    const reaches = gradReach(on.plan, new Set(['logp']));
    expect(HostSteps.of(on.plan, env, reaches)).not.toBeNull();
    // webgpu: nothing is read back from the device; with the batch's host copies, the advantage stage is hosted.
    expect(HostSteps.of(on.plan, { ...env, backend: 'webgpu' }, reaches)).toBeNull();
    const hostFeeds = new Map(on.entries.map((e) => [e.name, e.tensor]));
    const gpu = HostSteps.of(on.plan, { ...env, backend: 'webgpu', hostFeeds }, reaches)!;
    expect(gpu).not.toBeNull();
    const fedIds = new Set(on.plan.fed.values());
    const hosted = on.plan.steps.filter((s) => gpu.has(s));
    expect(hosted.some((s) => s.node.op === 'std')).toBe(true);
    for (const s of hosted) {
      for (const i of s.node.inputs) {
        const n = on.plan.graph.node(i);
        expect(hosted.some((h) => h.node.id === i) || n.op === 'const' || n.op === 'param' || fedIds.has(i), `%${s.node.id} reads %${i} ${n.op}`).toBe(true);
      }
    }
    // The -O0 program's plans launch no host-step kernel.
    const o0 = specializeBatch(p, batchOf('grpo').off, false);
    expect(o0.plan.hostSmall).toBe(false);
    const prof = await profileEval(tf, 'cpu', o0, ['logp']);
    expect(prof.kernels.some((k) => k.kernel === HOST_STEPS_KERNEL)).toBe(false);
  });
});
