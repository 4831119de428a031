/**
 * The policy's host kernels (cpu, wasm) against the stock TF.js ops: layer norm (values and the
 * gradients of x, gain and bias) and row gathers (values, zero rows for negative indices, and the
 * scatter-add gradient with repeated indices).
 */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs-core';
import { useBackend, type BackendName } from '../../../runtime/backends/index.js';
import { gatherRows } from '../../../runtime/policy/gather-rows.js';
import { layerNormKernel } from '../../../runtime/policy/layer-norm.js';
import { stockLayerNorm } from '../../../runtime/policy/model.js';
import { rng } from '../../helpers/random-batch.js';
import { firstMiss } from '../../helpers/stdlib-harness.js';

describe.each(['cpu', 'wasm'] as BackendName[])('policy host kernels on %s', (backend) => {
  it('layer norm equals the stock ops, forward and every gradient', async () => {
    const { tf } = await useBackend(backend);
    const r = rng(3);
    const before = tf.memory().numTensors;
    const [M, d] = [37, 12];
    const x = tf.tensor3d(Float32Array.from({ length: M * d }, () => 3 * r() - 1), [1, M, d]);
    const g = tf.tensor1d(Float32Array.from({ length: d }, () => 0.5 + r()));
    const b = tf.tensor1d(Float32Array.from({ length: d }, () => r() - 0.5));
    const w = tf.tensor3d(Float32Array.from({ length: M * d }, () => r() - 0.5), [1, M, d]);
    const grads = (ln: typeof stockLayerNorm): Tensor[] => tf.grads((a: Tensor, c: Tensor, e: Tensor) => tf.sum(tf.mul(ln(tf, a, c, e), w)))([x, g, b]);
    const y = tf.tidy(() => layerNormKernel(tf, x, g, b));
    const want = tf.tidy(() => stockLayerNorm(tf, x, g, b));
    expect(y.shape).toEqual([1, M, d]);
    expect(firstMiss(await y.data(), await want.data(), 1e-5, 1)).toBeNull();
    const got = grads(layerNormKernel);
    const ref = grads(stockLayerNorm);
    for (const [i, name] of ['x', 'gain', 'bias'].entries()) {
      expect(got[i]!.shape, name).toEqual(ref[i]!.shape);
      expect(firstMiss(await got[i]!.data(), await ref[i]!.data(), 1e-4, 1), name).toBeNull();
    }
    tf.dispose([x, g, b, w, y, want, ...got, ...ref]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('row gathers equal tf.gather (0 for a negative index), with the scatter-add gradient', async () => {
    const { tf } = await useBackend(backend);
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(Float32Array.from({ length: 5 * 3 }, (_, i) => i + 1), [5, 3]);
    const idx = Int32Array.from([4, 0, 4, -1, 2]);
    const y = gatherRows(tf, x, idx, backend);
    expect(Array.from(await y.data())).toEqual([13, 14, 15, 1, 2, 3, 13, 14, 15, 0, 0, 0, 7, 8, 9]);
    const w = tf.tensor2d(Float32Array.from({ length: 5 * 3 }, (_, i) => i), [5, 3]);
    const dx = tf.grad((a: Tensor) => tf.sum(tf.mul(gatherRows(tf, a, idx, backend), w)))(x);
    // Row 4 gets rows 0 and 2 of w; row 0 row 1; row 2 row 4; rows 1 and 3 nothing.
    expect(Array.from(await dx.data())).toEqual([3, 4, 5, 0, 0, 0, 12, 13, 14, 0, 0, 0, 6, 8, 10]);
    tf.dispose([x, y, w, dx]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
