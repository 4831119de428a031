/**
 * Scans along a named dim: the next element (`shift`) and the reverse discounted sum
 * (`discounted_cumsum`), the building blocks of returns and GAE.
 */
import { formatType, tensor } from '../types.js';
import { asTensor, defineOp, type InferCtx, type RefArray, type Tensor, type TF } from './define.js';
import type { Type } from '../types.js';

function scanType(types: readonly Type[], ctx: InferCtx): Type | null {
  const x = asTensor(types[0]);
  if (x === null) return null;
  const over = ctx.attrs['over'] as readonly string[];
  if (over.length !== 1) return ctx.error('RLP3022', { dims: over.join(', ') });
  if (!x.dims.includes(over[0]!)) return ctx.error('RLP3002', { dim: over[0]!, type: formatType(x) }, { operand: 0 });
  return tensor(x.dtype === 'bool' ? 'f32' : x.dtype, x.dims, x.mask, null);
}

/** Visit every line of `a` along dim `d`: calls f(offsets of the line's elements). */
function eachLine(a: RefArray, d: string, f: (offsets: number[]) => void): void {
  const k = a.dims.indexOf(d);
  const n = a.shape[k]!;
  const stride = a.shape.slice(k + 1).reduce((x, y) => x * y, 1);
  const outer = a.shape.slice(0, k).reduce((x, y) => x * y, 1);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < stride; i++) f(Array.from({ length: n }, (_, t) => o * n * stride + t * stride + i));
  }
}

/** Move axis k of x last and flatten the rest: [rows, n]; returns the inverse too. */
function toRows(tf: TF, x: Tensor, k: number): { rows: Tensor; back: (y: Tensor) => Tensor } {
  const r = x.rank;
  const perm = [...Array(r).keys()].filter((i) => i !== k).concat([k]);
  const moved = tf.transpose(x, perm);
  const n = x.shape[k]!;
  const movedShape = moved.shape;
  const inv = perm.map((_, i) => perm.indexOf(i));
  return { rows: tf.reshape(moved, [-1, n]), back: (y) => tf.transpose(tf.reshape(y, movedShape), inv) };
}

/** `shift(x, over T)`: y_t = x_{t+1}, and 0 at the last position. */
export const shift = defineOp({
  name: 'shift',
  dsl: 'shift',
  summary: 'The next element along a dim: y_t = x_{t+1}, 0 at the end (next values in GAE).',
  traits: ['pure'],
  inputs: [{ name: 'x', kind: 'number' }],
  over: 'required',
  infer: scanType,
  torch: (_, __, c) => `_shift(${c.tensor(0)}, ${c.axes[0]!})`,
  reference: ([x], attrs) => {
    const out = new Float64Array(x!.data.length);
    eachLine(x!, (attrs['over'] as string[])[0]!, (offs) => offs.forEach((o, t) => (out[o] = t + 1 < offs.length ? x!.data[offs[t + 1]!]! : 0)));
    return { dims: x!.dims, shape: x!.shape, data: out };
  },
  lower: (tf, [x], _, ctx) => {
    const k = ctx.axes[0]!;
    const n = x!.shape[k]!;
    const begin = x!.shape.map((_, i) => (i === k ? 1 : 0));
    const size = x!.shape.map((d, i) => (i === k ? n - 1 : d));
    const pad = x!.shape.map((_, i): [number, number] => (i === k ? [0, 1] : [0, 0]));
    return tf.pad(tf.slice(x!, begin, size), pad);
  },
});

/** `lag(x, over S)`: y_t = x_{t-1}, and 0 at the first position (the previous step's value). */
export const lag = defineOp({
  name: 'lag',
  dsl: 'lag',
  summary: 'The previous element along a dim: y_t = x_{t-1}, 0 at the start (differences between consecutive steps).',
  traits: ['pure'],
  inputs: [{ name: 'x', kind: 'number' }],
  over: 'required',
  infer: scanType,
  torch: (_, __, c) => `_lag(${c.tensor(0)}, ${c.axes[0]!})`,
  reference: ([x], attrs) => {
    const out = new Float64Array(x!.data.length);
    eachLine(x!, (attrs['over'] as string[])[0]!, (offs) => offs.forEach((o, t) => (out[o] = t > 0 ? x!.data[offs[t - 1]!]! : 0)));
    return { dims: x!.dims, shape: x!.shape, data: out };
  },
  lower: (tf, [x], _, ctx) => {
    const k = ctx.axes[0]!;
    const n = x!.shape[k]!;
    const begin = x!.shape.map(() => 0);
    const size = x!.shape.map((d, i) => (i === k ? n - 1 : d));
    const pad = x!.shape.map((_, i): [number, number] => (i === k ? [1, 0] : [0, 0]));
    return tf.pad(tf.slice(x!, begin, size), pad);
  },
});

/** `discounted_cumsum(x, gamma, over T)`: y_t = x_t + gamma y_{t+1} (a reverse scan). */
export const discountedCumsum = defineOp({
  name: 'discounted_cumsum',
  dsl: 'discounted_cumsum',
  summary: 'Reverse discounted sum along a dim: y_t = x_t + gamma y_{t+1} (returns, GAE).',
  traits: ['pure'],
  inputs: [{ name: 'x', kind: 'number' }, { name: 'gamma', kind: 'number-scalar' }],
  over: 'required',
  infer: scanType,
  torch: ([, gamma], _, c) => `_discounted_cumsum(${c.tensor(0)}, ${gamma}, ${c.axes[0]!})`,
  reference: ([x, g], attrs) => {
    const gamma = g!.data[0]!;
    const out = new Float64Array(x!.data.length);
    eachLine(x!, (attrs['over'] as string[])[0]!, (offs) => {
      let acc = 0;
      for (let t = offs.length - 1; t >= 0; t--) {
        acc = x!.data[offs[t]!]! + gamma * acc;
        out[offs[t]!] = acc;
      }
    });
    return { dims: x!.dims, shape: x!.shape, data: out };
  },
  // As a product with the n x n matrix M[u][t] = gamma^(u - t) for u >= t: exact, differentiable
  // in x and gamma, and one matmul instead of n dependent steps.
  lower: (tf, [x, gamma], _, ctx) => {
    const k = ctx.axes[0]!;
    const n = x!.shape[k]!;
    const { rows, back } = toRows(tf, x!, k);
    const e = Array.from({ length: n * n }, (_, i) => Math.max(Math.floor(i / n) - (i % n), 0));
    const upper = Array.from({ length: n * n }, (_, i) => (Math.floor(i / n) >= i % n ? 1 : 0));
    const m = tf.mul(tf.pow(tf.reshape(gamma!, []), tf.tensor2d(e, [n, n])), tf.tensor2d(upper, [n, n]));
    return back(tf.matMul(rows, m));
  },
});
