/**
 * Segment scans that spread a segment's value to its tokens: `fill_forward(x, flag, over T)`
 * carries the value at the last flagged position forward (y_t = x_s, s the last flagged position
 * <= t; 0 before the first flag) and `fill_backward(x, flag, over T)` carries the value at the
 * next flagged position backward (y_t = x_s, s the first flagged position >= t; 0 after the last
 * flag). SPO-chain's segment values (the value at a segment's start and at its end) are these
 * fills of the values at the cutpoints. Differentiable in x (not in the flags).
 */
import { formatType, tensor } from '../types.js';
import { asTensor, defineOp, type OpDef, type RefArray, type Tensor, type TF } from './define.js';
import type { Type } from '../types.js';
import type { InferCtx } from './define.js';

function fillType(types: readonly Type[], ctx: InferCtx): Type | null {
  const x = asTensor(types[0]);
  const flag = asTensor(types[1]);
  if (x === null || flag === null) return null;
  const over = ctx.attrs['over'] as readonly string[];
  if (over.length !== 1 || !x.dims.includes(over[0]!) || x.dims.join(',') !== flag.dims.join(',')) {
    return ctx.error('RLP3052', { x: formatType(x), flag: formatType(flag), dims: over.join(', ') }, { operand: 1 });
  }
  return tensor('f32', x.dims, x.mask, null);
}

/** Visit every line of `a` along dim `d`: calls f(offsets of the line's elements, in order). */
function eachLine(a: RefArray, d: string, f: (offsets: number[]) => void): void {
  const k = a.dims.indexOf(d);
  const n = a.shape[k]!;
  const stride = a.shape.slice(k + 1).reduce((x, y) => x * y, 1);
  const outer = a.shape.slice(0, k).reduce((x, y) => x * y, 1);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < stride; i++) f(Array.from({ length: n }, (_, t) => o * n * stride + t * stride + i));
  }
}

function reference(reverse: boolean) {
  return ([x, flag]: readonly RefArray[], attrs: Readonly<Record<string, unknown>>): RefArray => {
    const out = new Float64Array(x!.data.length);
    eachLine(x!, (attrs['over'] as string[])[0]!, (offs) => {
      let carry = 0;
      const order = reverse ? [...offs].reverse() : offs;
      for (const o of order) {
        if (flag!.data[o] !== 0) carry = x!.data[o]!;
        out[o] = carry;
      }
    });
    return { dims: x!.dims, shape: x!.shape, data: out };
  };
}

/**
 * With c the inclusive (reverse: reverse inclusive) cumulative count of flags along the axis, the
 * flagged position s is the one that position t copies exactly when flag_s and c_s == c_t:
 * y_t = sum_s [flag_s and c_s == c_t] x_s, one masked sum over an n x n comparison.
 */
function lower(reverse: boolean) {
  return (tf: TF, [x, flag]: readonly Tensor[], _: unknown, ctx: { axes: readonly number[] }): Tensor => {
    const axis = ctx.axes[0]!;
    // The selection carries no gradient (flags may be computed from differentiated values): a
    // custom zero gradient keeps the comparisons off the tape, as `rank`.
    const selection = tf.customGrad((...args) => {
      const f = tf.cast(tf.notEqual(args[0] as Tensor, 0), 'float32');
      const c = tf.cumsum(f, axis, false, reverse);
      const pick = tf.mul(tf.cast(tf.equal(tf.expandDims(c, axis + 1), tf.expandDims(c, axis)), 'float32'), tf.expandDims(f, axis));
      return { value: pick, gradFunc: () => tf.zerosLike(args[0] as Tensor) };
    });
    return tf.sum(tf.mul(selection(flag!), tf.expandDims(x!, axis)), axis + 1);
  };
}

function fillOp(name: string, reverse: boolean, summary: string): OpDef {
  return defineOp({
    name,
    dsl: name,
    summary,
    traits: ['pure'],
    inputs: [{ name: 'x', kind: 'number' }, { name: 'flag', kind: 'number' }],
    over: 'required',
    infer: fillType,
    reference: reference(reverse),
    lower: lower(reverse),
    // The same comparison (`_fill`, compiler/torch/prelude.ts).
    torch: (_, __, c) => `_fill(${c.tensor(0)}, ${c.tensor(1)}, ${c.axes[0]!}, ${reverse ? 'True' : 'False'})`,
  });
}

export const fillForward = fillOp('fill_forward', false, 'Segment scan: each entry takes x at the last position at or before it (along the one `over` dim) where flag is non-zero; 0 before the first.');
export const fillBackward = fillOp('fill_backward', true, 'Segment scan: each entry takes x at the first position at or after it (along the one `over` dim) where flag is non-zero; 0 after the last.');
