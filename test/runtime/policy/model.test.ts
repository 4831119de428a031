/**
 * Shared-prefix forward (Prefix Grouper) against the plain forward: the same completion log-probs
 * (within 1e-6) and the same gradients for every parameter (within 1e-5 relative), for G in
 * {1, 2, 8} and completions of unequal lengths.
 */
import { describe, expect, it } from 'vitest';
import { useBackend, type BackendName } from '../../../runtime/backends/index.js';
import { completionLogProbsShared, completionLogProbsUnshared, type Runner } from '../../../runtime/policy/model.js';
import type { Scalar } from '@tensorflow/tfjs-core';
import type { TFModule } from '../../../runtime/backends/tf.js';
import { disposePolicy, initPolicy, policyVariables, type PolicyConfig, type PolicyParams } from '../../../runtime/policy/params.js';
import { rng } from '../../helpers/random-batch.js';
import { firstMiss } from '../../helpers/stdlib-harness.js';

const config: PolicyConfig = { vocab: 13, dModel: 16, nHeads: 2, nLayers: 2, dFF: 32, maxLen: 32 };

function problem(G: number, seed: number) {
  const r = rng(seed);
  const P = 5;
  const lengths = Array.from({ length: G }, (_, g) => (g === 0 ? 7 : 1 + Math.floor(r() * 7)));
  const R = Math.max(...lengths);
  const prompt = Int32Array.from({ length: P }, () => Math.floor(r() * config.vocab));
  const completions = Int32Array.from({ length: G * R }, (_, i) => ((i % R) < lengths[Math.floor(i / R)]! ? Math.floor(r() * config.vocab) : 0));
  const valid = Float32Array.from({ length: G * R }, (_, i) => ((i % R) < lengths[Math.floor(i / R)]! ? 1 : 0));
  const weights = Float32Array.from({ length: G * R }, (_, i) => valid[i]! * (r() * 2 - 1));
  return { P, R, lengths, prompt, completions, valid, weights };
}

describe.each(['cpu', 'wasm'] as BackendName[])('shared-prefix forward on %s', (backend) => {
  // On cpu the gradients agree within 1e-5 relative; wasm's SIMD kernels sum in another order,
  // which costs float32 a little more.
  const gradTol = backend === 'cpu' ? 1e-5 : 1e-4;
  for (const G of [1, 2, 8]) {
    it(`equals the plain forward for G = ${G}, outputs and every parameter's gradient`, async () => {
      const { tf } = await useBackend(backend);
      const run: Runner = { tf, backend };
      const p = initPolicy(tf, config, 1234);
      try {
        await compare(tf, run, p, G);
      } finally {
        disposePolicy(tf, p);
      }
    });
  }

  async function compare(tf: TFModule, run: Runner, p: PolicyParams, G: number): Promise<void> {
    const pr = problem(G, 99 + G);
    const before = tf.memory().numTensors;
    const vars = policyVariables(p);
    const lossOf = (shared: boolean) => (): Scalar => {
      const lp = (shared ? completionLogProbsShared : completionLogProbsUnshared)(run, p, pr.prompt, pr.completions, G, pr.R);
      return tf.sum(tf.mul(lp, tf.tensor2d(pr.weights, [G, pr.R])));
    };
    const lpS = tf.tidy(() => completionLogProbsShared(run, p, pr.prompt, pr.completions, G, pr.R));
    const lpU = tf.tidy(() => completionLogProbsUnshared(run, p, pr.prompt, pr.completions, G, pr.R));
    const a = Array.from(await lpS.data()).filter((_, i) => pr.valid[i] === 1);
    const b = Array.from(await lpU.data()).filter((_, i) => pr.valid[i] === 1);
    expect(a.length).toBe(pr.lengths.reduce((x, y) => x + y, 0));
    expect(firstMiss(a, b, 1e-6, 1)).toBeNull();
    const gs = tf.variableGrads(lossOf(true), vars);
    const gu = tf.variableGrads(lossOf(false), vars);
    expect(Math.abs((await gs.value.data())[0]! - (await gu.value.data())[0]!)).toBeLessThan(1e-5);
    for (const v of vars) {
      const x = await gs.grads[v.name]!.data();
      const y = await gu.grads[v.name]!.data();
      expect(firstMiss(x, y, gradTol), v.name).toBeNull();
    }
    tf.dispose([lpS, lpU, gs.value, gu.value, ...Object.values(gs.grads), ...Object.values(gu.grads)]);
    expect(tf.memory().numTensors).toBe(before);
  }

  it('gives every completion the same log-probs as running it alone', async () => {
    const { tf } = await useBackend(backend);
    const run: Runner = { tf, backend };
    const p = initPolicy(tf, config, 7);
    const pr = problem(3, 5);
    const all = tf.tidy(() => completionLogProbsShared(run, p, pr.prompt, pr.completions, 3, pr.R));
    const allData = await all.data();
    for (let g = 0; g < 3; g++) {
      const L = pr.lengths[g]!;
      const one = tf.tidy(() => completionLogProbsShared(run, p, pr.prompt, pr.completions.slice(g * pr.R, g * pr.R + L), 1, L));
      expect(firstMiss(await one.data(), allData.slice(g * pr.R, g * pr.R + L), 1e-6, 1)).toBeNull();
      one.dispose();
    }
    all.dispose();
    disposePolicy(tf, p);
  });
});
