/**
 * Shared-prefix forward (Prefix Grouper) against the plain forward of each sequence alone: the same
 * completion log-probs (within 1e-6) and the same gradients for every parameter (within 1e-5
 * relative on cpu), for G in {1, 2, 8}, prompts and completions of unequal lengths, batched; and
 * the packed and ragged forwards (real tokens only) the same, with exactly 0 on padding.
 */
import { describe, expect, it } from 'vitest';
import { useBackend, type BackendName } from '../../../runtime/backends/index.js';
import { completionLogitsPacked, completionLogitsRagged, completionLogProbsShared, completionLogProbsUnshared, forward, packCompletions, pickLogProbs, unpack, type Runner } from '../../../runtime/policy/model.js';
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import type { TFModule } from '../../../runtime/backends/tf.js';
import { disposePolicy, initPolicy, policyVariables, type PolicyConfig, type PolicyParams } from '../../../runtime/policy/params.js';
import { rng } from '../../helpers/random-batch.js';
import { firstMiss } from '../../helpers/stdlib-harness.js';

const config: PolicyConfig = { vocab: 13, dModel: 16, nHeads: 2, nLayers: 2, dFF: 32, maxLen: 32 };

/** B prompts of unequal lengths, each with G completions of unequal lengths padded to R. */
function problem(B: number, G: number, seed: number) {
  const r = rng(seed);
  const promptLengths = Array.from({ length: B }, (_, b) => [5, 2, 8][b % 3]!);
  const prompts = promptLengths.map((P) => Int32Array.from({ length: P }, () => Math.floor(r() * config.vocab)));
  const lengths = Array.from({ length: B * G }, (_, s) => (s === 0 ? 7 : 1 + Math.floor(r() * 7)));
  const R = Math.max(...lengths);
  const valid = Float32Array.from({ length: B * G * R }, (_, i) => ((i % R) < lengths[Math.floor(i / R)]! ? 1 : 0));
  const completions = Int32Array.from(valid, (v) => (v === 1 ? Math.floor(r() * config.vocab) : 0));
  const weights = Float32Array.from(valid, (v) => v * (r() * 2 - 1));
  return { B, G, R, prompts, lengths, completions, valid, weights };
}
type Problem = ReturnType<typeof problem>;

/**
 * The reference: every [prompt; completion] alone through the plain forward, unpadded, its
 * completion tokens picked at positions P - 1 .. P + len - 2. Returns the weighted sum (for the
 * gradients) and the log-probs of the real tokens in [B, G, R] order.
 */
function reference(tf: TFModule, run: Runner, p: PolicyParams, pr: Problem): { loss: Scalar; logp: Tensor[] } {
  const logp: Tensor[] = [];
  let loss: Tensor = tf.scalar(0);
  for (let s = 0; s < pr.B * pr.G; s++) {
    const prompt = pr.prompts[Math.floor(s / pr.G)]!;
    const len = pr.lengths[s]!;
    const comp = pr.completions.slice(s * pr.R, s * pr.R + len);
    const ids = Int32Array.from([...prompt, ...comp]);
    const logits = forward(run, p, ids, 1, ids.length);
    const lp = pickLogProbs(tf, tf.slice(logits, [0, prompt.length - 1, 0], [1, len, config.vocab]), comp);
    logp.push(tf.reshape(lp, [len]));
    loss = tf.add(loss, tf.sum(tf.mul(tf.reshape(lp, [len]), tf.tensor1d(pr.weights.slice(s * pr.R, s * pr.R + len)))));
  }
  return { loss: loss as Scalar, logp };
}

describe.each(['cpu', 'wasm'] as BackendName[])('shared-prefix forward on %s', (backend) => {
  // On cpu the gradients agree within 1e-5 relative; wasm's SIMD kernels sum in another order,
  // which costs float32 a little more.
  const gradTol = backend === 'cpu' ? 1e-5 : 1e-4;
  for (const G of [1, 2, 8]) {
    it(`equals the plain forward for G = ${G} and 3 prompts, outputs and every parameter's gradient`, async () => {
      const { tf } = await useBackend(backend);
      const run: Runner = { tf, backend };
      const p = initPolicy(tf, config, 1234);
      try {
        await compare(tf, run, p, problem(3, G, 99 + G));
        await compare(tf, run, p, problem(1, G, 7 + G));
      } finally {
        disposePolicy(tf, p);
      }
    });
  }

  async function compare(tf: TFModule, run: Runner, p: PolicyParams, pr: Problem): Promise<void> {
    const before = tf.memory().numTensors;
    const vars = policyVariables(p);
    const refLogp = tf.tidy(() => tf.concat(reference(tf, run, p, pr).logp));
    const want = Array.from(await refLogp.data());
    expect(want.length).toBe(pr.lengths.reduce((x, y) => x + y, 0));
    const gr = tf.variableGrads(() => reference(tf, run, p, pr).loss, vars);
    // Packed: the real tokens only, each group's block padded to 3 rows more than the longest group.
    const packed = (r: Runner, q: PolicyParams, prompts: readonly Int32Array[], completions: Int32Array, G: number, R: number): Tensor => {
      const pk = packCompletions(completions, pr.lengths, prompts.length, G, R);
      return unpack(r, pickLogProbs(r.tf, completionLogitsPacked(r, q, prompts, completions, G, R, pr.lengths, 0, pk.Cm + 3), pk.ids), pk, prompts.length, G, R);
    };
    // Ragged (cpu, wasm): the real tokens only, no padding anywhere, one attention kernel per layer.
    const ragged = (r: Runner, q: PolicyParams, prompts: readonly Int32Array[], completions: Int32Array, G: number, R: number): Tensor => {
      const pk = packCompletions(completions, pr.lengths, prompts.length, G, R);
      return unpack(r, pickLogProbs(r.tf, completionLogitsRagged(r, q, prompts, completions, G, R, pr.lengths), pk.ids), pk, prompts.length, G, R);
    };
    for (const [name, f] of [['shared', completionLogProbsShared], ['batched plain', completionLogProbsUnshared], ['packed', packed], ['ragged', ragged]] as const) {
      const lp = tf.tidy(() => f(run, p, pr.prompts, pr.completions, pr.G, pr.R));
      expect(lp.shape).toEqual([pr.B, pr.G, pr.R]);
      const all = Array.from(await lp.data());
      const got = all.filter((_, i) => pr.valid[i] === 1);
      expect(firstMiss(got, want, 1e-6, 1), name).toBeNull();
      // The packed forward gives exactly 0 on padding.
      if (name === 'packed' || name === 'ragged') expect(all.filter((_, i) => pr.valid[i] === 0).every((x) => x === 0)).toBe(true);
      const gs = tf.variableGrads(() => tf.sum(tf.mul(f(run, p, pr.prompts, pr.completions, pr.G, pr.R), tf.tensor3d(pr.weights, [pr.B, pr.G, pr.R]))) as Scalar, vars);
      expect(Math.abs((await gs.value.data())[0]! - (await gr.value.data())[0]!)).toBeLessThan(1e-5);
      for (const v of vars) {
        const x = await gs.grads[v.name]!.data();
        const y = await gr.grads[v.name]!.data();
        // Relative to each element, and to a tenth of the tensor's largest gradient for elements that
        // are sums with cancellation (float32 summation order differs between the two paths).
        expect(firstMiss(x, y, gradTol, 0.1), `${name}: ${v.name}`).toBeNull();
        // And as a whole: the difference's norm against the gradient's norm.
        let dd = 0;
        let yy = 0;
        for (let i = 0; i < y.length; i++) {
          dd += (x[i]! - y[i]!) ** 2;
          yy += y[i]! ** 2;
        }
        expect(Math.sqrt(dd), v.name).toBeLessThanOrEqual(gradTol * Math.sqrt(yy) + 1e-30);
      }
      tf.dispose([lp, gs.value, ...Object.values(gs.grads)]);
    }
    tf.dispose([refLogp, gr.value, ...Object.values(gr.grads)]);
    expect(tf.memory().numTensors).toBe(before);
  }

  it('gives every completion the same log-probs as running it alone', async () => {
    const { tf } = await useBackend(backend);
    const run: Runner = { tf, backend };
    const p = initPolicy(tf, config, 7);
    const pr = problem(2, 3, 5);
    const all = tf.tidy(() => completionLogProbsShared(run, p, pr.prompts, pr.completions, 3, pr.R));
    const allData = await all.data();
    for (let s = 0; s < 6; s++) {
      const L = pr.lengths[s]!;
      const one = tf.tidy(() => completionLogProbsShared(run, p, [pr.prompts[Math.floor(s / 3)]!], pr.completions.slice(s * pr.R, s * pr.R + L), 1, L));
      expect(firstMiss(await one.data(), allData.slice(s * pr.R, s * pr.R + L), 1e-6, 1)).toBeNull();
      one.dispose();
    }
    all.dispose();
    disposePolicy(tf, p);
  });
});
