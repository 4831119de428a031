/** Clamping, elementwise min/max, and selection. */
import type { LowerCtx, Tensor, TF } from './define.js';
import { elementwise } from './elementwise.js';

/**
 * clip on TF.js. With scalar bounds known without a device read (literals, or any scalar on the
 * host-memory backends), one `clipByValue` kernel, under a custom gradient that gives x the
 * gradient inside [lo, hi] (ties included, as min(max(x, lo), hi) does) and each bound the sum
 * of the gradient beyond it. Otherwise min(max(x, lo), hi), broadcasting.
 */
function lowerClip(tf: TF, x: Tensor, lo: Tensor, hi: Tensor, ctx: LowerCtx): Tensor {
  const hostRead = ctx.backend === 'cpu' || ctx.backend === 'wasm';
  const scalar = (t: Tensor, k: number): number | undefined => ctx.consts[k] ?? (hostRead && t.size === 1 ? t.dataSync()[0] : undefined);
  const l = lo.size === 1 ? scalar(lo, 1) : undefined;
  const h = hi.size === 1 ? scalar(hi, 2) : undefined;
  if (l === undefined || h === undefined || !(l <= h)) return tf.minimum(tf.maximum(x, lo), hi);
  const f = tf.customGrad((...args) => {
    const [xv, lv, hv] = args as [Tensor, Tensor, Tensor];
    const save = args[3] as unknown as (ts: Tensor[]) => void;
    save([xv]);
    return {
      value: tf.clipByValue(xv, l, h),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const g = dy as Tensor;
        const xs = saved[0]!;
        const zero = tf.zerosLike(g);
        const below = tf.less(xs, l);
        const above = tf.greater(xs, h);
        return [
          tf.where(tf.logicalOr(below, above), zero, g),
          tf.reshape(tf.sum(tf.where(below, g, zero)), lv.shape),
          tf.reshape(tf.sum(tf.where(above, g, zero)), hv.shape),
        ];
      },
    };
  });
  return f(x, lo, hi);
}

export const clip = elementwise({
  name: 'clip', lower: (tf, [x, lo, hi], _, ctx) => lowerClip(tf, x!, lo!, hi!, ctx), torch: ([, lo, hi], _, c) => `_minimum(_maximum(${c.tensor(0)}, ${lo}), ${hi})`, dsl: 'clip', summary: 'Clamp every element of x into [lo, hi].', inputs: ['x', 'lo', 'hi'], result: 'f32',
  scalar: (x, lo, hi) => Math.min(hi, Math.max(lo, x)),
  grad: ([x, lo, hi], g) => [x! > lo! && x! < hi! ? g : 0, x! <= lo! ? g : 0, x! >= hi! ? g : 0],
  examples: [{ dsl: 'clip(2, 0.8, 1.2)', out: 1.2 }, { dsl: 'clip(0.5, 0.8, 1.2)', out: 0.8 }],
  js: { value: ([x, lo, hi]) => `Math.min(${hi}, Math.max(${lo}, ${x}))`, grad: ([x, lo, hi], g) => [`(${x} > ${lo} && ${x} < ${hi} ? ${g} : 0)`, `(${x} <= ${lo} ? ${g} : 0)`, `(${x} >= ${hi} ? ${g} : 0)`] },
  wgsl: { value: ([x, lo, hi]) => `min(${hi}, max(${lo}, ${x}))`, grad: ([x, lo, hi], g) => [`select(0.0, ${g}, ${x} > ${lo} && ${x} < ${hi})`, `select(0.0, ${g}, ${x} <= ${lo})`, `select(0.0, ${g}, ${x} >= ${hi})`] },
});

export const minimum = elementwise({
  name: 'minimum', lower: (tf, [x, y]) => tf.minimum(x!, y!), torch: ([, y], _, c) => `_minimum(${c.tensor(0)}, ${y})`, dsl: 'min', summary: 'Elementwise minimum of x and y (with `over`: the reduction).', inputs: ['x', 'y'],
  result: 'arith', commutative: true,
  scalar: Math.min, grad: ([x, y], g) => (x! <= y! ? [g, 0] : [0, g]), examples: [{ dsl: 'min(1, 2)', out: 1 }],
  js: { value: ([x, y]) => `Math.min(${x}, ${y})`, grad: ([x, y], g) => [`(${x} <= ${y} ? ${g} : 0)`, `(${x} <= ${y} ? 0 : ${g})`] },
  wgsl: { value: ([x, y]) => `min(${x}, ${y})`, grad: ([x, y], g) => [`select(0.0, ${g}, ${x} <= ${y})`, `select(${g}, 0.0, ${x} <= ${y})`] },
});

export const maximum = elementwise({
  name: 'maximum', lower: (tf, [x, y]) => tf.maximum(x!, y!), torch: ([, y], _, c) => `_maximum(${c.tensor(0)}, ${y})`, dsl: 'max', summary: 'Elementwise maximum of x and y (with `over`: the reduction).', inputs: ['x', 'y'],
  result: 'arith', commutative: true,
  scalar: Math.max, grad: ([x, y], g) => (x! >= y! ? [g, 0] : [0, g]), examples: [{ dsl: 'max(1, 2)', out: 2 }],
  js: { value: ([x, y]) => `Math.max(${x}, ${y})`, grad: ([x, y], g) => [`(${x} >= ${y} ? ${g} : 0)`, `(${x} >= ${y} ? 0 : ${g})`] },
  wgsl: { value: ([x, y]) => `max(${x}, ${y})`, grad: ([x, y], g) => [`select(0.0, ${g}, ${x} >= ${y})`, `select(${g}, 0.0, ${x} >= ${y})`] },
});

export const select = elementwise({
  name: 'select', // A select of bools is a number (f32, true is 1): cast, as TF.js's select on the cast branches.
  torch: ([cond, a, b], _, c) => (c.isBool(1) || c.isBool(2) ? `_where(${cond}, ${a}, ${b}, ${c.like}).to(${c.like}.dtype)` : `_where(${cond}, ${a}, ${b}, ${c.like})`), lower: (tf, [c, a, b], _, ctx) => tf.where(tf.broadcastTo(c!, ctx.outShape as number[]), tf.broadcastTo(a!, ctx.outShape as number[]), tf.broadcastTo(b!, ctx.outShape as number[])), dsl: 'select', summary: 'Where cond is true, a; else b.', inputs: ['cond', 'a', 'b'], accepts: ['bool', 'number', 'number'], result: 'f32', selects: true,
  scalar: (c, a, b) => (c !== 0 ? a : b), grad: ([c], g) => [0, c !== 0 ? g : 0, c !== 0 ? 0 : g],
  examples: [{ dsl: 'select(1 > 0, 2, 3)', out: 2 }],
  js: { value: ([c, a, b]) => `(${c} !== 0 ? ${a} : ${b})`, grad: ([c], g) => ['0', `(${c} !== 0 ? ${g} : 0)`, `(${c} !== 0 ? 0 : ${g})`] },
  wgsl: { value: ([c, a, b]) => `select(${b}, ${a}, ${c} != 0.0)`, grad: ([c], g) => ['0.0', `select(0.0, ${g}, ${c} != 0.0)`, `select(${g}, 0.0, ${c} != 0.0)`] },
});
