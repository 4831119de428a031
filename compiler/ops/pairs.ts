/**
 * `pair_logsigmoid(x, key, scale, over G)`: pairs built inside a group. For each entry i, the sum
 * over the entries j of its line along G ranked after it (key_j > key_i: a smaller key is the
 * better one) of log sigmoid(scale_i (x_i - x_j)). Summed over i this is the sum over all
 * cross-level pairs (better, worse) of a group; the number of such pairs of entry i is
 * rank(-key, over G). TRPA's preference pairs from discrete levels. Differentiable in x and
 * scale (not in the keys).
 */
import { formatType, tensor } from '../types.js';
import { asTensor, defineOp, type Tensor } from './define.js';

const logSigmoid = (z: number): number => -(Math.max(-z, 0) + Math.log1p(Math.exp(-Math.abs(z))));

function strides(shape: readonly number[]): number[] {
  const s = shape.map(() => 1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

export const pairLogSigmoid = defineOp({
  name: 'pair_logsigmoid',
  dsl: 'pair_logsigmoid',
  summary: 'Pairs inside a group: for each entry i, sum over the entries j of its line along `over` with key_j > key_i of log sigmoid(scale_i (x_i - x_j)).',
  traits: ['pure'],
  inputs: [{ name: 'x', kind: 'number' }, { name: 'key', kind: 'number' }, { name: 'scale', kind: 'number' }],
  over: 'required',
  infer: (types, ctx) => {
    const x = asTensor(types[0]);
    const key = asTensor(types[1]);
    const scale = types[2];
    if (x === null || key === null || scale === undefined) return null;
    const over = ctx.attrs['over'] as readonly string[];
    const sc = asTensor(scale);
    const scaleOk = sc === null ? scale.kind !== 'tensor' : sc.dims.length === 0 || sc.dims.join(',') === x.dims.join(',');
    if (over.length !== 1 || !x.dims.includes(over[0]!) || x.dims.join(',') !== key.dims.join(',') || !scaleOk) {
      return ctx.error('RLP3053', { x: formatType(x), key: formatType(key), dims: over.join(', ') }, { operand: 1 });
    }
    return tensor('f32', x.dims, x.mask, null);
  },
  reference: ([x, key, scale], attrs, out) => {
    const axis = x!.dims.indexOf((attrs['over'] as readonly string[])[0]!);
    const n = x!.shape[axis]!;
    const step = strides(x!.shape)[axis]!;
    const data = new Float64Array(x!.data.length);
    for (let i = 0; i < data.length; i++) {
      const base = i - (Math.floor(i / step) % n) * step;
      const s = scale!.data.length === 1 ? scale!.data[0]! : scale!.data[i]!;
      let acc = 0;
      for (let j = 0; j < n; j++) {
        const o = base + j * step;
        if (key!.data[o]! > key!.data[i]!) acc += logSigmoid(s * (x!.data[i]! - x!.data[o]!));
      }
      data[i] = acc;
    }
    return { ...out, data };
  },
  // later[i, j] = key_j > key_i along the axis; log sigmoid as -softplus(-z) (see log_sigmoid).
  lower: (tf, [x, key, scale], _, ctx) => {
    const axis = ctx.axes[0]!;
    // The pairing carries no gradient (keys may be computed from differentiated values).
    const pairing = tf.customGrad((...args) => {
      const k = args[0] as Tensor;
      return { value: tf.cast(tf.greater(tf.expandDims(k, axis), tf.expandDims(k, axis + 1)), 'float32'), gradFunc: () => tf.zerosLike(k) };
    });
    const later = pairing(key!);
    const diff = tf.sub(tf.expandDims(x!, axis + 1), tf.expandDims(x!, axis));
    const z = tf.mul(tf.expandDims(tf.broadcastTo(scale!, x!.shape), axis + 1), diff);
    return tf.sum(tf.mul(later, tf.neg(tf.softplus(tf.neg(z)))), axis + 1);
  },
  torch: (_, __, c) => `_pair_logsigmoid(${c.tensor(0)}, ${c.tensor(1)}, ${c.tensor(2)}, ${c.axes[0]!})`,
});
