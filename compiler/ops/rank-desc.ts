/**
 * `rank_desc(x, over D..., where m)`: how many entries of x along the `over` dims (those where the
 * mask m is non-zero) are strictly larger than each entry: 0 for the largest, tied entries share
 * the lower number. Piecewise constant, so its gradient is zero. With it a pipeline selects the
 * k largest entries of a batch (`rank_desc(x, ...) < k`: verl's top-k covariance tokens, KL-Cov)
 * or the entries at or above a quantile (TRL's top-entropy tokens), and, ranking seeded uniform
 * numbers, a random subset of a given size (Clip-Cov). Pairwise: memory grows with the square of
 * the number of entries ranked together.
 */
import { formatType, tensor } from '../types.js';
import { asTensor, defineOp, type RefArray, type Tensor } from './define.js';

/** For every flat index of x: the flat index of `w` (broadcast by dim name) and the kept-dims key. */
function layout(x: RefArray, w: RefArray | null, over: readonly string[]): { key: Int32Array; wAt: Int32Array } {
  const n = x.data.length;
  const key = new Int32Array(n);
  const wAt = new Int32Array(n);
  const coords = x.dims.map(() => 0);
  for (let i = 0; i < n; i++) {
    let rem = i;
    for (let d = x.dims.length - 1; d >= 0; d--) {
      coords[d] = rem % x.shape[d]!;
      rem = Math.floor(rem / x.shape[d]!);
    }
    let k = 0;
    x.dims.forEach((d, a) => {
      if (!over.includes(d)) k = k * x.shape[a]! + coords[a]!;
    });
    key[i] = k;
    if (w !== null) {
      let at = 0;
      w.dims.forEach((d, a) => {
        at = at * w.shape[a]! + (w.shape[a] === 1 ? 0 : coords[x.dims.indexOf(d)]!);
      });
      wAt[i] = at;
    }
  }
  return { key, wAt };
}

export const rankDesc = defineOp({
  name: 'rank_desc',
  dsl: 'rank_desc',
  summary: 'How many entries along the `over` dims (where the mask is non-zero) are strictly larger than each entry: 0 for the largest (gradient 0).',
  traits: ['pure'],
  inputs: [{ name: 'x', kind: 'number' }],
  over: 'required',
  where: true,
  infer: (types, ctx) => {
    const x = asTensor(types[0]);
    if (x === null) return null;
    const over = ctx.attrs['over'] as readonly string[];
    if (over.length === 0 || over.some((d) => !x.dims.includes(d))) {
      return ctx.error('RLP3050', { type: formatType(x), dims: over.join(', ') }, { operand: 0 });
    }
    if (ctx.attrs['where'] === true) {
      const w = asTensor(types[1]);
      if (w === null) return null;
      const extra = w.dims.find((d) => !x.dims.includes(d));
      if (extra !== undefined) return ctx.error('RLP3001', { left: formatType(x), right: formatType(w), dim: extra }, { operand: 1 });
    }
    return tensor('f32', x.dims, x.mask, null);
  },
  reference: ([x, w], attrs, out) => {
    const over = attrs['over'] as readonly string[];
    const m = attrs['where'] === true ? w! : null;
    const { key, wAt } = layout(x!, m, over);
    const n = x!.data.length;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let j = 0; j < n; j++) {
        if (key[j] !== key[i]) continue;
        if (m !== null && m.data[wAt[j]!] === 0) continue;
        if (x!.data[j]! > x!.data[i]!) r += 1;
      }
      data[i] = r;
    }
    return { ...out, data };
  },
  // The ranked axes moved last and flattened to one line of N: an [K, N, N] pairwise comparison
  // weighted by the mask, summed. A custom zero gradient keeps the comparison off the tape.
  lower: (tf, [x, w], _, ctx) => {
    const shape = x!.shape;
    const axes = ctx.axes;
    const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...kept, ...axes];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    const K = kept.reduce((a, i) => a * shape[i]!, 1);
    const N = axes.reduce((a, i) => a * shape[i]!, 1);
    const f = tf.customGrad((...args) => {
      const v = args[0] as Tensor;
      const lines = tf.reshape(tf.transpose(v, perm), [K, N]);
      const weight = w === undefined ? tf.onesLike(lines) : tf.cast(tf.notEqual(tf.reshape(tf.transpose(tf.broadcastTo(w, shape), perm), [K, N]), 0), 'float32');
      const larger = tf.cast(tf.greater(tf.expandDims(lines, 1), tf.expandDims(lines, 2)), 'float32');
      const counts = tf.sum(tf.mul(larger, tf.expandDims(weight, 1)), 2);
      const value = tf.transpose(tf.reshape(counts, perm.map((i) => shape[i]!)), inverse);
      return { value, gradFunc: (dy: Tensor | Tensor[]) => tf.zerosLike(dy as Tensor) };
    });
    return f(x!);
  },
  // The same pairwise comparison (`_rank_desc`, compiler/torch/prelude.ts); comparisons carry no gradient in torch.
  torch: (xs, attrs, c) => `_rank_desc(${c.tensor(0)}, (${c.axes.join(', ')},)${attrs['where'] === true ? `, ${xs[1]!}` : ''})`,
});
