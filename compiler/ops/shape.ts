/** Ops that add or remove a dimension: explicit broadcast and indexing. */
import { formatType, sortDims, tensor } from '../types.js';
import { asTensor, defineOp } from './define.js';

/** `expand(x, over D)`: repeat x along new dims D; the explicit way to spread a value to a finer level. */
export const expand = defineOp({
  name: 'expand',
  dsl: 'expand',
  summary: 'Repeat x along the named new dims (explicit broadcast, e.g. a per-sample value over tokens).',
  traits: ['shape', 'broadcast', 'pure'],
  inputs: [{ name: 'x', kind: 'any' }],
  over: 'required',
  lower: (tf, [x], _, ctx) => tf.broadcastTo(x!, ctx.outShape as number[]),
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
  lower: (tf, [x], attrs, ctx) => {
    const axis = ctx.axes[0]!;
    const index = Number(attrs['index']);
    if (index >= ctx.inShape[axis]!) throw new RangeError(`index ${index} is out of range: dimension \`${String(attrs['dim'])}\` has size ${ctx.inShape[axis]}`);
    const begin = ctx.inShape.map((_, i) => (i === axis ? index : 0));
    const size = ctx.inShape.map((d, i) => (i === axis ? 1 : d));
    return tf.squeeze(tf.slice(x!, begin, size), [axis]);
  },
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
