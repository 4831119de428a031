/** Ops that add or remove a dimension: explicit broadcast and indexing. */
import { formatType, sortDims, tensor } from '../types.js';
import { asTensor, defineOp, type RefArray, type Tensor } from './define.js';

/** Row-major strides. */
function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** For each flat index of `out`, the flat index into `a` that holds its value (by dim name). */
function sourceIndex(a: RefArray, out: { dims: readonly string[]; shape: readonly number[] }, fixed: Readonly<Record<string, number>> = {}): number[] {
  const aStr = strides(a.shape);
  const oStr = strides(out.shape);
  const n = out.shape.reduce((x, y) => x * y, 1);
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    let off = 0;
    a.dims.forEach((d, k) => {
      const j = out.dims.indexOf(d);
      const c = j < 0 ? (fixed[d] ?? 0) : Math.floor(i / oStr[j]!) % out.shape[j]!;
      off += c * aStr[k]!;
    });
    idx.push(off);
  }
  return idx;
}

/** `expand(x, over D)`: repeat x along new dims D; the explicit way to spread a value to a finer level. */
export const expand = defineOp({
  name: 'expand',
  dsl: 'expand',
  summary: 'Repeat x along the named new dims (explicit broadcast, e.g. a per-sample value over tokens).',
  traits: ['shape', 'broadcast', 'pure'],
  inputs: [{ name: 'x', kind: 'any' }],
  over: 'required',
  lower: (tf, [x], _, ctx) => tf.broadcastTo(x!, ctx.outShape as number[]),
  torch: (_, __, c) => `${c.tensor(0)}.expand(${c.outSizes.join(', ')})`,
  reference: ([x], _, out) => ({ ...out, data: Float64Array.from(sourceIndex(x!, out), (i) => x!.data[i]!) }),
  infer: (types, ctx) => {
    const x = asTensor(types[0]);
    if (x === null) return null;
    const over = ctx.attrs['over'] as readonly string[];
    for (const d of over) if (x.dims.includes(d)) return ctx.error('RLP3019', { dim: d }, { operand: 0 });
    const dims = sortDims([...x.dims, ...over], ctx.dimOrder);
    // A value spread over tokens is padded like every token-level value.
    const mask = x.mask ?? (over.includes('T') ? 'mask' : null);
    return tensor(x.dtype, dims, mask, null);
  },
});

/** `x[D=i]`: the slice at index i along D, without D (preference data: `logp[G=0]` is the chosen). */
export const take = defineOp({
  name: 'take',
  dsl: null,
  summary: 'The slice of x at a constant index along one named dim, which is removed.',
  traits: ['shape', 'pure'],
  reference: ([x], attrs, out) => {
    const dim = String(attrs['dim']);
    const index = Number(attrs['index']);
    const size = x!.shape[x!.dims.indexOf(dim)]!;
    if (index >= size) throw new RangeError(`index ${index} is out of range: dimension \`${dim}\` has size ${size}`);
    return { ...out, data: Float64Array.from(sourceIndex(x!, out, { [dim]: index }), (i) => x!.data[i]!) };
  },
  lower: (tf, [x], attrs, ctx) => {
    const axis = ctx.axes[0]!;
    const index = Number(attrs['index']);
    if (index >= ctx.inShape[axis]!) throw new RangeError(`index ${index} is out of range: dimension \`${String(attrs['dim'])}\` has size ${ctx.inShape[axis]}`);
    const begin = ctx.inShape.map((_, i) => (i === axis ? index : 0));
    const size = ctx.inShape.map((d, i) => (i === axis ? 1 : d));
    return tf.squeeze(tf.slice(x!, begin, size), [axis]);
  },
  // `x[:, :, 0]`: Python raises IndexError past the end, as the TF.js lowering throws.
  torch: ([x], attrs, c) => `${x!}[${[...Array<string>(c.axes[0]!).fill(':'), String(Number(attrs['index']))].join(', ')}]`,
  inputs: [{ name: 'x', kind: 'any' }],
  infer: (types, ctx) => {
    const x = asTensor(types[0]);
    if (x === null) return null;
    const dim = ctx.attrs['dim'] as string;
    if (!x.dims.includes(dim)) {
      return ctx.error('RLP3017', { what: `cannot index \`${dim}\`: the value is \`${formatType(x)}\`` }, { operand: 0 });
    }
    const dims = x.dims.filter((d) => d !== dim);
    return tensor(x.dtype, dims, dims.includes('T') ? x.mask : null, dims.includes('T') ? x.covers : null);
  },
});

/** `sort(x, over D)`: the values of a one-dimensional x in ascending order (AOT's sorted margins). */
export const sort = defineOp({
  name: 'sort',
  dsl: 'sort',
  summary: 'The values of a one-dimensional value, in ascending order along its dim.',
  traits: ['shape', 'pure'],
  inputs: [{ name: 'x', kind: 'number' }],
  over: 'required',
  infer: (types, ctx) => {
    const x = asTensor(types[0]);
    if (x === null) return null;
    const over = ctx.attrs['over'] as readonly string[];
    if (over.length !== 1 || x.dims.length !== 1 || x.dims[0] !== over[0]) {
      return ctx.error('RLP3021', { type: formatType(x), dims: over.join(', ') }, { operand: 0 });
    }
    return tensor(x.dtype === 'bool' ? 'f32' : x.dtype, x.dims, null, null);
  },
  reference: ([x], _, out) => ({ ...out, data: Float64Array.from(x!.data).sort() }),
  // torch.sort's gradient routes dy back through the permutation, as the TF.js lowering's.
  torch: (_, __, c) => `torch.sort(${c.tensor(0)}, dim=${c.axes[0]!}).values`,
  // A custom gradient: the permutation (from topk, which has no gradient) stays off the tape, and
  // the gradient routes dy back through the saved permutation as a one-hot matrix product.
  lower: (tf, [x]) => {
    const n = x!.shape[0]!;
    if (n < 2) return tf.clone(x!);
    const f = tf.customGrad((...args) => {
      const v = args[0] as Tensor;
      const save = args[1] as (ts: Tensor[]) => void;
      const { values, indices } = tf.topk(tf.neg(v), n, true);
      const perm = tf.cast(tf.oneHot(indices, n, 1, 0, 'int32'), 'float32');
      save([perm]);
      return {
        value: tf.neg(values),
        gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => tf.reshape(tf.matMul(tf.reshape(dy as Tensor, [1, n]), saved[0]!), [n]),
      };
    });
    return f(x!);
  },
});
