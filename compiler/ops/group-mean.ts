/**
 * `group_mean(x, key, over D)`: group-by a second key. Each entry becomes the mean of the
 * entries of its line along D that share its key (itself included): sub-group means, such as
 * HBPO's per-budget mean within a prompt's group or GiGPO's anchor-state groups.
 */
import { formatType, tensor } from '../types.js';
import { asTensor, defineOp, type Tensor } from './define.js';

function strides(shape: readonly number[]): number[] {
  const s = shape.map(() => 1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

export const groupMean = defineOp({
  name: 'group_mean',
  dsl: 'group_mean',
  summary: 'Mean over the `over` dim of the entries whose key equals this entry\'s key (group-by a second key); x and key have the same dims.',
  traits: ['pure'],
  inputs: [{ name: 'x', kind: 'number' }, { name: 'key', kind: 'number' }],
  over: 'required',
  infer: (types, ctx) => {
    const x = asTensor(types[0]);
    const key = asTensor(types[1]);
    if (x === null || key === null) return null;
    const over = ctx.attrs['over'] as readonly string[];
    if (over.length !== 1 || !x.dims.includes(over[0]!) || x.dims.join(',') !== key.dims.join(',')) {
      return ctx.error('RLP3051', { x: formatType(x), key: formatType(key), dims: over.join(', ') }, { operand: 1 });
    }
    return tensor('f32', x.dims, x.mask, null);
  },
  reference: ([x, key], attrs, out) => {
    const axis = x!.dims.indexOf((attrs['over'] as readonly string[])[0]!);
    const n = x!.shape[axis]!;
    const step = strides(x!.shape)[axis]!;
    const data = new Float64Array(x!.data.length);
    for (let i = 0; i < data.length; i++) {
      const base = i - (Math.floor(i / step) % n) * step;
      let s = 0;
      let c = 0;
      for (let j = 0; j < n; j++) {
        if (key!.data[base + j * step] !== key!.data[i]) continue;
        s += x!.data[base + j * step]!;
        c += 1;
      }
      data[i] = s / c;
    }
    return { ...out, data };
  },
  // same[i, j] = key_i == key_j along the axis (no gradient through keys); a masked mean over j.
  lower: (tf, [x, key], _, ctx) => {
    const axis = ctx.axes[0]!;
    const same = tf.cast(tf.equal(tf.expandDims(key!, axis + 1), tf.expandDims(key!, axis)), 'float32');
    const num = tf.sum(tf.mul(same, tf.expandDims(x!, axis)), axis + 1);
    return tf.div(num, tf.sum(same, axis + 1));
  },
  // The same masked mean (`_group_mean`, compiler/torch/prelude.ts).
  torch: (_, __, c) => `_group_mean(${c.tensor(0)}, ${c.tensor(1)}, ${c.axes[0]!})`,
});

/**
 * `group_sum(x, key, over D...)`: group-by a second key over one or more dims. Each entry becomes
 * the sum of the entries of its block along the `over` dims (the other dims fixed) whose key
 * equals its key, itself included. With x = 1 it counts the entry's sub-group; GiGPO's anchor
 * groups (the same observation anywhere in a prompt's trajectories and steps) are the blocks over
 * [G, S].
 */
export const groupSum = defineOp({
  name: 'group_sum',
  dsl: 'group_sum',
  summary: 'Sum over the `over` dims (one or more) of the entries whose key equals this entry\'s key (group-by a second key); x and key have the same dims.',
  traits: ['pure'],
  inputs: [{ name: 'x', kind: 'number' }, { name: 'key', kind: 'number' }],
  over: 'required',
  infer: (types, ctx) => {
    const x = asTensor(types[0]);
    const key = asTensor(types[1]);
    if (x === null || key === null) return null;
    const over = ctx.attrs['over'] as readonly string[];
    if (over.length === 0 || !over.every((d) => x.dims.includes(d)) || x.dims.join(',') !== key.dims.join(',')) {
      return ctx.error('RLP3054', { x: formatType(x), key: formatType(key), dims: over.join(', ') }, { operand: 1 });
    }
    return tensor('f32', x.dims, x.mask, null);
  },
  reference: ([x, key], attrs, out) => {
    const over = new Set(attrs['over'] as readonly string[]);
    const st = strides(x!.shape);
    const coords = (i: number): number[] => x!.shape.map((n, k) => Math.floor(i / st[k]!) % n);
    const data = new Float64Array(x!.data.length);
    for (let i = 0; i < data.length; i++) {
      const ci = coords(i);
      let s = 0;
      for (let j = 0; j < data.length; j++) {
        if (key!.data[j] !== key!.data[i]) continue;
        const cj = coords(j);
        if (x!.dims.some((d, k) => !over.has(d) && cj[k] !== ci[k])) continue;
        s += x!.data[j]!;
      }
      data[i] = s;
    }
    return { ...out, data };
  },
  // Move the `over` axes last and flatten them to one axis of n; then a masked sum over an n x n
  // comparison of keys (no gradient through keys), and back.
  lower: (tf, [x, key], _, ctx) => {
    const r = x!.rank;
    const perm = [...Array(r).keys()].filter((i) => !ctx.axes.includes(i)).concat([...ctx.axes]);
    const inv = perm.map((_, i) => perm.indexOf(i));
    const moved = tf.transpose(x!, perm);
    const movedShape = moved.shape;
    const keep = movedShape.slice(0, r - ctx.axes.length);
    const n = ctx.axes.reduce((a, k) => a * x!.shape[k]!, 1);
    const xs = tf.reshape(moved, [...keep, n]);
    const ks = tf.reshape(tf.transpose(key!, perm), [...keep, n]);
    const a = keep.length;
    // The grouping carries no gradient (keys may be computed from differentiated values).
    const grouping = tf.customGrad((...args) => {
      const k = args[0] as Tensor;
      return { value: tf.cast(tf.equal(tf.expandDims(k, a + 1), tf.expandDims(k, a)), 'float32'), gradFunc: () => tf.zerosLike(k) };
    });
    const same = grouping(ks);
    const sums = tf.sum(tf.mul(same, tf.expandDims(xs, a)), a + 1);
    return tf.transpose(tf.reshape(sums, movedShape), inv);
  },
  torch: (_, __, c) => `_group_sum(${c.tensor(0)}, ${c.tensor(1)}, [${c.axes.join(', ')}])`,
});
