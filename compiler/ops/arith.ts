/** Arithmetic operators: `+ - * / **` and negation. */
import { elementwise } from './elementwise.js';

export const add = elementwise({
  name: 'add', lower: (tf, [x, y]) => tf.add(x!, y!), torch: ([x, y]) => `${x} + ${y}`, dsl: null, summary: 'Addition: x + y.', inputs: ['x', 'y'], result: 'arith', commutative: true,
  scalar: (x, y) => x + y, grad: (_, g) => [g, g],
});

export const sub = elementwise({
  name: 'sub', lower: (tf, [x, y]) => tf.sub(x!, y!), torch: ([x, y]) => `${x} - ${y}`, dsl: null, summary: 'Subtraction: x - y.', inputs: ['x', 'y'], result: 'arith',
  scalar: (x, y) => x - y, grad: (_, g) => [g, -g],
});

export const mul = elementwise({
  name: 'mul', lower: (tf, [x, y]) => tf.mul(x!, y!), torch: ([x, y]) => `${x} * ${y}`, dsl: null, summary: 'Multiplication: x * y; a factor that is zero outside a mask clears that padding.', inputs: ['x', 'y'],
  result: 'arith', product: true, commutative: true,
  scalar: (x, y) => x * y, grad: ([x, y], g) => [g * y!, g * x!],
});

export const div = elementwise({
  name: 'div', lower: (tf, [x, y]) => tf.div(x!, y!), torch: ([, y], _, c) => `${c.tensor(0)} / ${y}`, dsl: null, summary: 'Division: x / y (IEEE: x/0 is ±inf, 0/0 is NaN).', inputs: ['x', 'y'], result: 'f32',
  scalar: (x, y) => x / y, grad: ([x, y], g) => [g / y!, (-g * x!) / (y! * y!)],
});

export const pow = elementwise({
  name: 'pow', lower: (tf, [x, y]) => tf.pow(x!, y!), torch: ([, y], _, c) => `${c.tensor(0)} ** ${y}`, dsl: null, summary: 'Power: x ** y.', inputs: ['x', 'y'], result: 'f32',
  scalar: (x, y) => x ** y,
  grad: ([x, y], g) => [g * y! * x! ** (y! - 1), x! > 0 ? g * x! ** y! * Math.log(x!) : 0],
});

export const neg = elementwise({
  name: 'neg', lower: (tf, [x]) => tf.neg(x!), torch: ([x]) => `-${x}`, dsl: null, summary: 'Negation: -x.', inputs: ['x'], result: 'arith',
  scalar: (x) => -x, grad: (_, g) => [-g],
});
