/**
 * The update does not depend on the micro-batch split: the summed gradients over 1, 2 and 4
 * micro-batches agree within 1e-5 for grpo, dapo and dr_grpo, and so does the parameter update;
 * with the completions' lengths given (the packed forward over real tokens only) too, and the same
 * as without; and the current policy's forward run inside the gradient tape gives exactly what a
 * forward of its own gives.
 */
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../../runtime/backends/index.js';
import type { Runner } from '../../../runtime/policy/model.js';
import { disposePolicy, initPolicy, policyVariables, type PolicyConfig } from '../../../runtime/policy/params.js';
import { adamState, adamStep, ADAM_DEFAULTS } from '../../../runtime/train/adam.js';
import { batchLevelOutputs, lossAndGrads, type RolloutBatch } from '../../../runtime/train/step.js';
import { policyOnHost } from '../../../runtime/train/step-context.js';
import { lowerProgram } from '../../../runtime/exec/program.js';
import { rng } from '../../helpers/random-batch.js';
import { firstMiss, stdlibPipeline } from '../../helpers/stdlib-harness.js';

const config: PolicyConfig = { vocab: 12, dModel: 16, nHeads: 2, nLayers: 1, dFF: 24, maxLen: 20 };

function rollouts(seed: number): RolloutBatch {
  const r = rng(seed);
  const B = 4;
  const G = 3;
  const R = 5;
  const prompts = Array.from({ length: B }, () => Int32Array.from({ length: 2 + Math.floor(r() * 4) }, () => 3 + Math.floor(r() * 9)));
  const lengths = Array.from({ length: B * G }, () => 1 + Math.floor(r() * R));
  const mask = Float32Array.from({ length: B * G * R }, (_, i) => ((i % R) < lengths[Math.floor(i / R)]! ? 1 : 0));
  const completions = Int32Array.from({ length: B * G * R }, (_, i) => (mask[i] === 1 ? 3 + Math.floor(r() * 9) : 0));
  const around = (): Float32Array => Float32Array.from({ length: B * G * R }, (_, i) => (mask[i] === 1 ? -2.5 + r() : 0));
  return { B, G, R, prompts, completions, lengths: Int32Array.from(lengths), mask, oldLogp: around(), refLogp: around(), perCompletion: { reward: Float32Array.from({ length: B * G }, () => (r() < 0.5 ? 0 : 1)) } };
}

describe('micro-batch invariance of the update (cpu)', () => {
  for (const name of ['grpo', 'dapo', 'dr_grpo']) {
    it(`${name}: 1, 2 and 4 micro-batches, padded or packed, give the same gradients and update`, async () => {
      const { tf } = await useBackend('cpu');
      const run: Runner = { tf, backend: 'cpu' };
      const g = lowerProgram(stdlibPipeline(name));
      expect(batchLevelOutputs(g)).toEqual(expect.arrayContaining(['advantage.A']));
      const params = new Map(g.values);
      const packed = rollouts(17);
      const { lengths: _, ...padded } = packed;
      const before = tf.memory().numTensors;
      const results: { loss: number; grads: Float32Array[]; updated: Float32Array[] }[] = [];
      for (const [parts, b] of [[1, padded], [2, padded], [4, padded], [1, packed], [2, packed], [4, packed]] as const) {
        const p = initPolicy(tf, config, 3);
        const { loss, grads } = await lossAndGrads(run, g, p, b, params, parts);
        const gradData = await Promise.all(grads.map(async (x) => (await x.data()) as Float32Array));
        const vars = policyVariables(p);
        const state = adamState(tf, vars);
        await adamStep(tf, vars, grads, state, { ...ADAM_DEFAULTS, lr: 1e-2 });
        const updated = await Promise.all(vars.map(async (v) => (await v.data()) as Float32Array));
        tf.dispose([...grads, ...state.m, ...state.v]);
        disposePolicy(tf, p);
        results.push({ loss, grads: gradData, updated });
      }
      expect(tf.memory().numTensors).toBe(before);
      // Within each forward (padded, packed), every split against one micro-batch.
      for (const [one, ...rest] of [results.slice(0, 3), results.slice(3)]) {
        for (const other of rest) {
          expect(Math.abs(other!.loss - one!.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(one!.loss)));
          one!.grads.forEach((gw, i) => expect(firstMiss(other!.grads[i]!, gw, 1e-5), `grad ${i}`).toBeNull());
          // The updated weights, within 1e-5 of the tensor's largest weight: Adam's first step is
          // lr * g / (|g| + eps), so a gradient element near eps (1e-8) turns float32 summation-order
          // noise into a visible difference of that one element's step.
          one!.updated.forEach((w, i) => expect(firstMiss(other!.updated[i]!, w, 1e-5, 1), `param ${i}`).toBeNull());
        }
      }
      // Packed against padded: the same loss and gradients (the summation order differs, so the
      // updates of near-cancelling gradient elements may differ by more than the noise above).
      const [one, packedOne] = [results[0]!, results[3]!];
      expect(Math.abs(packedOne.loss - one.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(one.loss)));
      one.grads.forEach((gw, i) => expect(firstMiss(packedOne.grads[i]!, gw, 1e-5), `packed grad ${i}`).toBeNull());
      expect(one.grads.some((x) => x.some((v) => v !== 0))).toBe(true);
    });
  }
});

describe('the current forward inside the tape', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`${backend}: gives the same old log-probs, loss, gradients and batch-level values as a forward of its own`, async () => {
      const { tf } = await useBackend(backend);
      const run: Runner = { tf, backend };
      const g = lowerProgram(stdlibPipeline('grpo'));
      const params = new Map(g.values);
      const { oldLogp: _, ...b } = rollouts(23);
      const p = initPolicy(tf, config, 4);
      const before = tf.memory().numTensors;
      const current = await policyOnHost(run, p, b, b.mask, true);
      const separate = await lossAndGrads(run, g, p, { ...b, oldLogp: current.logp, before: current.raw }, params, 1);
      const inTape = await lossAndGrads(run, g, p, { ...b, currentInTape: true }, params, 1);
      expect(Array.from(inTape.current!.logp)).toEqual(Array.from(current.logp));
      expect(Array.from(inTape.current!.raw.entropy!)).toEqual(Array.from(current.raw.entropy!));
      expect(inTape.loss).toBe(separate.loss);
      expect(Object.keys(inTape.shared).sort()).toEqual(Object.keys(separate.shared).sort());
      for (const k of Object.keys(separate.shared)) expect(Array.from(inTape.shared[k]!), k).toEqual(Array.from(separate.shared[k]!));
      expect(Array.from(inTape.ratio!.values)).toEqual(Array.from(separate.ratio!.values));
      for (const [i, x] of separate.grads.entries()) expect(Array.from(await inTape.grads[i]!.data()), `grad ${i}`).toEqual(Array.from(await x.data()));
      expect(separate.grads.some((x) => x.dataSync().some((v) => v !== 0))).toBe(true);
      tf.dispose([...separate.grads, ...inTape.grads]);
      expect(tf.memory().numTensors).toBe(before);
      disposePolicy(tf, p);
    });
  }
});

describe('when to share a prefix', () => {
  it('shares only when the analytic saving G(P+R)/(P+GR) reaches SHARE_MIN_SAVING', async () => {
    const { worthSharing, SHARE_MIN_SAVING } = await import('../../../runtime/train/step.js');
    expect(SHARE_MIN_SAVING).toBe(1.5);
    expect(worthSharing(16, 2, 16)).toBe(false); // 1.33x
    expect(worthSharing(16, 8, 16)).toBe(true); // 1.78x
    expect(worthSharing(64, 8, 16)).toBe(true); // 3.33x
    expect(worthSharing(256, 16, 16)).toBe(true); // 8.5x
  });
});
