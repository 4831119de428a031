/**
 * `rank(x, over D)`: each entry's rank within its line along D, counting the entries strictly
 * smaller (0 = the smallest; tied entries share the lower rank). Piecewise constant, so its
 * gradient is zero. Used for in-group ranks (the unlikeliness reward, best/worst filters).
 */
import { formatType, tensor } from '../types.js';
import { asTensor, defineOp, type Tensor } from './define.js';

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  const s = shape.map(() => 1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

export const rank = defineOp({
  name: 'rank',
  dsl: 'rank',
  summary: 'Rank of each entry within its line along the one `over` dim: how many entries there are strictly smaller (gradient 0).',
  traits: ['pure'],
  inputs: [{ name: 'x', kind: 'number' }],
  over: 'required',
  infer: (types, ctx) => {
    const x = asTensor(types[0]);
    if (x === null) return null;
    const over = ctx.attrs['over'] as readonly string[];
    if (over.length !== 1 || !x.dims.includes(over[0]!)) {
      return ctx.error('RLP3050', { type: formatType(x), dims: over.join(', ') }, { operand: 0 });
    }
    return tensor('f32', x.dims, x.mask, null);
  },
  reference: ([x], attrs, out) => {
    const axis = x!.dims.indexOf((attrs['over'] as readonly string[])[0]!);
    const n = x!.shape[axis]!;
    const step = strides(x!.shape)[axis]!;
    const data = new Float64Array(x!.data.length);
    for (let i = 0; i < data.length; i++) {
      const pos = Math.floor(i / step) % n;
      const base = i - pos * step;
      let r = 0;
      for (let j = 0; j < n; j++) if (x!.data[base + j * step]! < x!.data[i]!) r += 1;
      data[i] = r;
    }
    return { ...out, data };
  },
  // Pairwise comparisons along the axis, summed; a custom zero gradient keeps `less` off the tape.
  lower: (tf, [x], _, ctx) => {
    const axis = ctx.axes[0]!;
    const f = tf.customGrad((...args) => {
      const v = args[0] as Tensor;
      const smaller = tf.less(tf.expandDims(v, axis), tf.expandDims(v, axis + 1));
      return { value: tf.sum(tf.cast(smaller, 'float32'), axis + 1), gradFunc: (dy: Tensor | Tensor[]) => tf.zerosLike(dy as Tensor) };
    });
    return f(x!);
  },
  // The same pairwise comparison (`_rank`, compiler/torch/prelude.ts); comparisons carry no gradient in torch.
  torch: (_, __, c) => `_rank(${c.tensor(0)}, ${c.axes[0]!})`,
});
