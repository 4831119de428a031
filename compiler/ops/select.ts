/** Clamping, elementwise min/max, and selection. */
import { elementwise } from './elementwise.js';

export const clip = elementwise({
  name: 'clip', sameShape: true, lower: (tf, [x, lo, hi]) => tf.minimum(tf.maximum(x!, lo!), hi!), torch: ([, lo, hi], _, c) => `_minimum(_maximum(${c.tensor(0)}, ${lo}), ${hi})`, dsl: 'clip', summary: 'Clamp every element of x into [lo, hi].', inputs: ['x', 'lo', 'hi'], result: 'f32',
  scalar: (x, lo, hi) => Math.min(hi, Math.max(lo, x)),
  grad: ([x, lo, hi], g) => [x! > lo! && x! < hi! ? g : 0, x! <= lo! ? g : 0, x! >= hi! ? g : 0],
  examples: [{ dsl: 'clip(2, 0.8, 1.2)', out: 1.2 }, { dsl: 'clip(0.5, 0.8, 1.2)', out: 0.8 }],
});

export const minimum = elementwise({
  name: 'minimum', sameShape: true, lower: (tf, [x, y]) => tf.minimum(x!, y!), torch: ([, y], _, c) => `_minimum(${c.tensor(0)}, ${y})`, dsl: 'min', summary: 'Elementwise minimum of x and y (with `over`: the reduction).', inputs: ['x', 'y'],
  result: 'arith', commutative: true,
  scalar: Math.min, grad: ([x, y], g) => (x! <= y! ? [g, 0] : [0, g]), examples: [{ dsl: 'min(1, 2)', out: 1 }],
});

export const maximum = elementwise({
  name: 'maximum', sameShape: true, lower: (tf, [x, y]) => tf.maximum(x!, y!), torch: ([, y], _, c) => `_maximum(${c.tensor(0)}, ${y})`, dsl: 'max', summary: 'Elementwise maximum of x and y (with `over`: the reduction).', inputs: ['x', 'y'],
  result: 'arith', commutative: true,
  scalar: Math.max, grad: ([x, y], g) => (x! >= y! ? [g, 0] : [0, g]), examples: [{ dsl: 'max(1, 2)', out: 2 }],
});

export const select = elementwise({
  name: 'select', torch: ([cond, a, b], _, c) => `_where(${cond}, ${a}, ${b}, ${c.like})`, lower: (tf, [c, a, b], _, ctx) => tf.where(tf.broadcastTo(c!, ctx.outShape as number[]), tf.broadcastTo(a!, ctx.outShape as number[]), tf.broadcastTo(b!, ctx.outShape as number[])), dsl: 'select', summary: 'Where cond is true, a; else b.', inputs: ['cond', 'a', 'b'], accepts: ['bool', 'number', 'number'], result: 'f32',
  scalar: (c, a, b) => (c !== 0 ? a : b), grad: ([c], g) => [0, c !== 0 ? g : 0, c !== 0 ? 0 : g],
  examples: [{ dsl: 'select(1 > 0, 2, 3)', out: 2 }],
});
