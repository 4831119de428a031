/** Adam never lets a non-finite gradient reach the weights; a non-finite step stops the run or is skipped. */
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../../runtime/backends/index.js';
import { adamState, adamStep, ADAM_DEFAULTS } from '../../../runtime/train/adam.js';
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
