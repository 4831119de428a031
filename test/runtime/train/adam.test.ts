/**
 * Adam never lets a non-finite gradient reach the weights; a non-finite step stops the run or is
 * skipped; its one-loop update on cpu and wasm equals the op-by-op one bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../../runtime/backends/index.js';
import { adamState, adamStep, adamUpdateOps, ADAM_DEFAULTS } from '../../../runtime/train/adam.js';
import { adamUpdateHost } from '../../../runtime/backends/host-adam.js';
import { rng } from '../../helpers/random-batch.js';
import { TrainError, type TrainOptions } from '../../../runtime/train/options.js';
import { skipNonfinite } from '../../../runtime/train/step-context.js';

describe('a non-finite gradient', () => {
  it.each([NaN, Infinity])('of %s changes neither the weights nor the optimizer state', async (bad) => {
    const { tf } = await useBackend('cpu');
    const x = tf.variable(tf.tensor1d([1, 2, 3]));
    const state = adamState(tf, [x]);
    const g = tf.tensor1d([0.5, bad, 0.5]);
    const norm = await adamStep(tf, [x], [g], state, { ...ADAM_DEFAULTS, lr: 0.1 });
    expect(Number.isFinite(norm)).toBe(false);
    expect(Array.from(await x.data())).toEqual([1, 2, 3]);
    expect(state.step).toBe(0);
    expect(Array.from(await state.m[0]!.data())).toEqual([0, 0, 0]);
    tf.dispose([x, g, ...state.m, ...state.v]);
  });

  it('stops the run with the step and the value named, or is skipped with --skip-nonfinite', () => {
    const logs: string[] = [];
    const o = { log: (l: string) => logs.push(l) } as unknown as TrainOptions;
    expect(skipNonfinite(o, 3, 0.5, 1.2)).toBe(false);
    expect(() => skipNonfinite(o, 3, NaN, 1)).toThrow(TrainError);
    expect(() => skipNonfinite(o, 3, 0.5, Infinity)).toThrow('step 3: the gradient norm is Infinity; no weight was changed and the run stops');
    expect(skipNonfinite({ ...o, skipNonfinite: true }, 7, NaN, NaN)).toBe(true);
    expect(logs.join('\n')).toContain('step 7: the loss is NaN; the step is skipped (--skip-nonfinite)');
  });
});

describe('the host Adam update', () => {
  it.each(['cpu', 'wasm'] as const)('on %s equals the op-by-op update bit for bit, over 4 steps', async (backend) => {
    const { tf } = await useBackend(backend);
    const r = rng(11);
    const before = tf.memory().numTensors;
    const n = 257;
    const init = Float32Array.from({ length: n }, () => r() * 2 - 1);
    const t = tf.tensor1d(init);
    const xa = tf.variable(t);
    const xb = tf.variable(t);
    t.dispose();
    let [ma, va] = [tf.zeros([n]), tf.zeros([n])];
    let [mb, vb] = [tf.zeros([n]), tf.zeros([n])];
    for (let step = 1; step <= 4; step++) {
      const g = tf.tensor1d(Float32Array.from({ length: n }, () => (r() * 2 - 1) * 10 ** Math.floor(r() * 6 - 4)));
      const s = { scale: step === 2 ? 0.37 : 1, beta1: 0.9, beta2: 0.999, bc1: 1 - 0.9 ** step, bc2: 1 - 0.999 ** step, eps: 1e-8, lr: 3e-4 };
      const [m1, v1] = adamUpdateHost(tf, xa, g, ma, va, s);
      const [m2, v2] = adamUpdateOps(tf, xb, g, mb, vb, s);
      tf.dispose([g, ma, va, mb, vb]);
      [ma, va, mb, vb] = [m1, v1, m2, v2];
      expect(Array.from(await xa.data()), `weights, step ${step}`).toEqual(Array.from(await xb.data()));
      expect(Array.from(await ma.data()), `m, step ${step}`).toEqual(Array.from(await mb.data()));
      expect(Array.from(await va.data()), `v, step ${step}`).toEqual(Array.from(await vb.data()));
    }
    expect(Array.from(await xa.data())).not.toEqual(Array.from(init));
    tf.dispose([xa, xb, ma, va, mb, vb]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
