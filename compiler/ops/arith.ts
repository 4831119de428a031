/** Arithmetic operators: `+ - * / **` and negation. */
import type { TorchCtx } from './define.js';
import { elementwise } from './elementwise.js';

/** Input i of a PyTorch form as a number: a bool tensor is cast to the function's float dtype (true is 1, as TF.js's cast). */
function num(xs: readonly string[], c: TorchCtx, i: number): string {
  return c.isBool(i) && !c.isNumber(i) ? `${xs[i]!}.to(${c.like}.dtype)` : xs[i]!;
}

/** Input i as a tensor (`_t(x, like)` for a Python number), a bool tensor cast as in `num`. */
function numTensor(xs: readonly string[], c: TorchCtx, i: number): string {
  return c.isNumber(i) ? c.tensor(i) : num(xs, c, i);
}

export const add = elementwise({
  name: 'add', lower: (tf, [x, y]) => tf.add(x!, y!), torch: (xs, _, c) => `${num(xs, c, 0)} + ${num(xs, c, 1)}`, dsl: null, summary: 'Addition: x + y.', inputs: ['x', 'y'], result: 'arith', commutative: true,
  scalar: (x, y) => x + y, grad: (_, g) => [g, g],
  js: { value: ([x, y]) => `(${x} + ${y})`, grad: (_, g) => [g, g] },
  wgsl: { value: ([x, y]) => `(${x} + ${y})`, grad: (_, g) => [g, g] },
});

export const sub = elementwise({
  name: 'sub', lower: (tf, [x, y]) => tf.sub(x!, y!), torch: (xs, _, c) => `${num(xs, c, 0)} - ${num(xs, c, 1)}`, dsl: null, summary: 'Subtraction: x - y.', inputs: ['x', 'y'], result: 'arith',
  scalar: (x, y) => x - y, grad: (_, g) => [g, -g],
  js: { value: ([x, y]) => `(${x} - ${y})`, grad: (_, g) => [g, `(-${g})`] },
  wgsl: { value: ([x, y]) => `(${x} - ${y})`, grad: (_, g) => [g, `(-${g})`] },
});

export const mul = elementwise({
  name: 'mul', lower: (tf, [x, y]) => tf.mul(x!, y!), torch: (xs, _, c) => `${num(xs, c, 0)} * ${num(xs, c, 1)}`, dsl: null, summary: 'Multiplication: x * y; a factor that is zero outside a mask clears that padding.', inputs: ['x', 'y'],
  result: 'arith', product: true, commutative: true,
  scalar: (x, y) => x * y, grad: ([x, y], g) => [g * y!, g * x!],
  js: { value: ([x, y]) => `(${x} * ${y})`, grad: ([x, y], g) => [`(${g} * ${y})`, `(${g} * ${x})`] },
  wgsl: { value: ([x, y]) => `(${x} * ${y})`, grad: ([x, y], g) => [`(${g} * ${y})`, `(${g} * ${x})`] },
});

export const div = elementwise({
  name: 'div', lower: (tf, [x, y]) => tf.div(x!, y!), torch: (xs, _, c) => `${numTensor(xs, c, 0)} / ${num(xs, c, 1)}`, dsl: null, summary: 'Division: x / y (IEEE: x/0 is ±inf, 0/0 is NaN).', inputs: ['x', 'y'], result: 'f32',
  scalar: (x, y) => x / y, grad: ([x, y], g) => [g / y!, (-g * x!) / (y! * y!)],
  js: { value: ([x, y]) => `(${x} / ${y})`, grad: ([x, y], g) => [`(${g} / ${y})`, `((-${g} * ${x}) / (${y} * ${y}))`] },
  wgsl: { value: ([x, y]) => `(${x} / ${y})`, grad: ([x, y], g) => [`(${g} / ${y})`, `((-${g} * ${x}) / (${y} * ${y}))`] },
});

export const pow = elementwise({
  name: 'pow', lower: (tf, [x, y]) => tf.pow(x!, y!), torch: (xs, _, c) => `${numTensor(xs, c, 0)} ** ${num(xs, c, 1)}`, dsl: null, summary: 'Power: x ** y.', inputs: ['x', 'y'], result: 'f32',
  scalar: (x, y) => x ** y,
  grad: ([x, y], g) => [g * y! * x! ** (y! - 1), x! > 0 ? g * x! ** y! * Math.log(x!) : 0],
  js: { value: ([x, y]) => `(${x} ** ${y})`, grad: ([x, y], g) => [`(${g} * ${y} * ${x} ** (${y} - 1))`, `(${x} > 0 ? ${g} * ${x} ** ${y} * Math.log(${x}) : 0)`] },
  wgsl: { value: ([x, y]) => `rlp_pow(${x}, ${y})`, grad: ([x, y], g) => [`(${g} * ${y} * rlp_pow(${x}, ${y} - 1.0))`, `select(0.0, ${g} * rlp_pow(${x}, ${y}) * log(${x}), ${x} > 0.0)`] },
});

export const neg = elementwise({
  name: 'neg', lower: (tf, [x]) => tf.neg(x!), torch: (xs, _, c) => `-${num(xs, c, 0)}`, dsl: null, summary: 'Negation: -x.', inputs: ['x'], result: 'arith',
  scalar: (x) => -x, grad: (_, g) => [-g],
  js: { value: ([x]) => `(-${x})`, grad: (_, g) => [`(-${g})`] },
  wgsl: { value: ([x]) => `(-${x})`, grad: (_, g) => [`(-${g})`] },
});
