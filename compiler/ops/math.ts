/** Unary math functions. */
import type { Tensor, TF } from './define.js';
import { fastExp } from '../codegen/fast-math.js';
import { elementwise } from './elementwise.js';

/** Identity forward, zero gradient. */
function lowerStopGradient(tf: TF, x: Tensor): Tensor {
  const f = tf.customGrad((...args) => ({ value: tf.clone(args[0] as Tensor), gradFunc: (dy: Tensor | Tensor[]) => tf.zerosLike(dy as Tensor) }));
  return f(x);
}

/** Source of sigmoid(x) and softplus(x) for generated kernels (x an identifier or parenthesized). */
const SIG = (x: string): string => `(${x} >= 0 ? 1 / (1 + fexp(-${x})) : fexp(${x}) / (1 + fexp(${x})))`;
const SOFTPLUS = (x: string): string => `(Math.max(${x}, 0) + Math.log1p(fexp(-Math.abs(${x}))))`;
/** The library of the templates that call `fexp` (compiler/codegen/fast-math.ts: e^x within 2 ulp, 3x faster than Math.exp). */
const EXP_LIB = { fexp: fastExp };

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** log(1 + e^x) without overflow. */
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

export const exp = elementwise({
  name: 'exp', lower: (tf, [x]) => tf.exp(x!), torch: (_, __, c) => `torch.exp(${c.tensor(0)})`, dsl: 'exp', summary: 'e ** x.', inputs: ['x'], result: 'f32',
  scalar: Math.exp, grad: ([x], g) => [g * Math.exp(x!)], examples: [{ dsl: 'exp(0)', out: 1 }],
  js: { value: ([x]) => `fexp(${x})`, grad: (_, g, y) => [`(${g} * ${y})`], lib: EXP_LIB },
  wgsl: { value: ([x]) => `exp(${x})`, grad: (_, g, y) => [`(${g} * ${y})`] },
});

export const log = elementwise({
  name: 'log', lower: (tf, [x]) => tf.log(x!), torch: (_, __, c) => `torch.log(${c.tensor(0)})`, dsl: 'log', summary: 'Natural logarithm.', inputs: ['x'], result: 'f32',
  scalar: Math.log, grad: ([x], g) => [g / x!], examples: [{ dsl: 'log(1)', out: 0 }],
  js: { value: ([x]) => `Math.log(${x})`, grad: ([x], g) => [`(${g} / ${x})`] },
  wgsl: { value: ([x]) => `log(${x})`, grad: ([x], g) => [`(${g} / ${x})`] },
});

export const sqrt = elementwise({
  name: 'sqrt', lower: (tf, [x]) => tf.sqrt(x!), torch: (_, __, c) => `torch.sqrt(${c.tensor(0)})`, dsl: 'sqrt', summary: 'Square root.', inputs: ['x'], result: 'f32',
  scalar: Math.sqrt, grad: ([x], g) => [g / (2 * Math.sqrt(x!))], examples: [{ dsl: 'sqrt(4)', out: 2 }],
  js: { value: ([x]) => `Math.sqrt(${x})`, grad: (_, g, y) => [`(${g} / (2 * ${y}))`] },
  wgsl: { value: ([x]) => `sqrt(${x})`, grad: (_, g, y) => [`(${g} / (2.0 * ${y}))`] },
});

export const abs = elementwise({
  name: 'abs', lower: (tf, [x]) => tf.abs(x!), torch: (_, __, c) => `torch.abs(${c.tensor(0)})`, dsl: 'abs', summary: 'Absolute value.', inputs: ['x'], result: 'arith',
  scalar: Math.abs, grad: ([x], g) => [g * Math.sign(x!)], examples: [{ dsl: 'abs(-2)', out: 2 }],
  js: { value: ([x]) => `Math.abs(${x})`, grad: ([x], g) => [`(${g} * Math.sign(${x}))`] },
  wgsl: { value: ([x]) => `abs(${x})`, grad: ([x], g) => [`(${g} * sign(${x}))`] },
});

export const sigmoidOp = elementwise({
  name: 'sigmoid', lower: (tf, [x]) => tf.sigmoid(x!), torch: (_, __, c) => `torch.sigmoid(${c.tensor(0)})`, dsl: 'sigmoid', summary: 'Logistic function 1 / (1 + e^-x).', inputs: ['x'], result: 'f32',
  scalar: sigmoid, grad: ([x], g) => [g * sigmoid(x!) * (1 - sigmoid(x!))], examples: [{ dsl: 'sigmoid(0)', out: 0.5 }],
  js: { value: ([x]) => SIG(x!), grad: (_, g, y) => [`(${g} * ${y} * (1 - ${y}))`], lib: EXP_LIB },
  wgsl: { value: ([x]) => `rlp_sigmoid(${x})`, grad: (_, g, y) => [`(${g} * ${y} * (1.0 - ${y}))`] },
});

// Lowered as -softplus(-x): TF.js 4.22's logSigmoid gradient reads a disposed tensor whenever
// its input is an intermediate value (its custom gradient frees the saved input).
export const logSigmoid = elementwise({
  name: 'log_sigmoid', lower: (tf, [x]) => tf.neg(tf.softplus(tf.neg(x!))), torch: (_, __, c) => `torch.nn.functional.logsigmoid(${c.tensor(0)})`, dsl: 'log_sigmoid', summary: 'log(sigmoid(x)), stable for large |x|.', inputs: ['x'], result: 'f32',
  scalar: (x) => -softplus(-x), grad: ([x], g) => [g * sigmoid(-x!)], examples: [{ dsl: 'log_sigmoid(0)', out: -Math.LN2 }],
  js: { value: ([x]) => `(-${SOFTPLUS(`(-${x})`)})`, grad: ([x], g) => [`(${g} * ${SIG(`(-${x})`)})`], lib: EXP_LIB },
  wgsl: { value: ([x]) => `(-rlp_softplus(-${x}))`, grad: ([x], g) => [`(${g} * rlp_sigmoid(-${x}))`] },
});

export const softplusOp = elementwise({
  name: 'softplus', lower: (tf, [x]) => tf.softplus(x!), torch: (_, __, c) => `torch.nn.functional.softplus(${c.tensor(0)})`, dsl: 'softplus', summary: 'log(1 + e^x), stable for large |x|.', inputs: ['x'], result: 'f32',
  scalar: softplus, grad: ([x], g) => [g * sigmoid(x!)], examples: [{ dsl: 'softplus(0)', out: Math.LN2 }],
  js: { value: ([x]) => SOFTPLUS(x!), grad: ([x], g) => [`(${g} * ${SIG(x!)})`], lib: EXP_LIB },
  wgsl: { value: ([x]) => `rlp_softplus(${x})`, grad: ([x], g) => [`(${g} * rlp_sigmoid(${x}))`] },
});

export const tanh = elementwise({
  name: 'tanh', lower: (tf, [x]) => tf.tanh(x!), torch: (_, __, c) => `torch.tanh(${c.tensor(0)})`, dsl: 'tanh', summary: 'Hyperbolic tangent.', inputs: ['x'], result: 'f32',
  scalar: Math.tanh, grad: ([x], g) => [g * (1 - Math.tanh(x!) ** 2)], examples: [{ dsl: 'tanh(0)', out: 0 }],
  js: { value: ([x]) => `Math.tanh(${x})`, grad: (_, g, y) => [`(${g} * (1 - ${y} * ${y}))`] },
  wgsl: { value: ([x]) => `rlp_tanh(${x})`, grad: (_, g, y) => [`(${g} * (1.0 - ${y} * ${y}))`] },
});

export const toFloat = elementwise({
  name: 'float', lower: (tf, [x]) => tf.cast(x!, 'float32'), torch: (_, __, c) => `${c.tensor(0)}.to(${c.like}.dtype)`, dsl: 'float', summary: 'Convert to f32 (true is 1, false is 0).', inputs: ['x'], accepts: 'any', result: 'f32',
  scalar: (x) => x, grad: (_, g) => [g], examples: [{ dsl: 'float(true)', out: 1 }],
  js: { value: ([x]) => `${x}`, grad: (_, g) => [g] },
  wgsl: { value: ([x]) => `${x}`, grad: (_, g) => [g] },
});

export const stopGradient = elementwise({
  name: 'stop_gradient', lower: (tf, [x]) => lowerStopGradient(tf, x!), torch: (_, __, c) => `${c.tensor(0)}.detach()`, dsl: 'stop_gradient', summary: 'x, with no gradient flowing back through it.', inputs: ['x'],
  result: 'arith', scalar: (x) => x, grad: () => [0], examples: [{ dsl: 'stop_gradient(3)', out: 3 }],
  js: { value: ([x]) => `${x}`, grad: () => ['0'] },
  wgsl: { value: ([x]) => `${x}`, grad: () => ['0.0'] },
});

export const cos = elementwise({
  name: 'cos', lower: (tf, [x]) => tf.cos(x!), torch: (_, __, c) => `torch.cos(${c.tensor(0)})`, dsl: 'cos', summary: 'Cosine (radians).', inputs: ['x'], result: 'f32',
  scalar: Math.cos, grad: ([x], g) => [-g * Math.sin(x!)], examples: [{ dsl: 'cos(0)', out: 1 }],
  js: { value: ([x]) => `Math.cos(${x})`, grad: ([x], g) => [`(-(${g}) * Math.sin(${x}))`] },
  wgsl: { value: ([x]) => `cos(${x})`, grad: ([x], g) => [`(-${g} * sin(${x}))`] },
});

export const sin = elementwise({
  name: 'sin', lower: (tf, [x]) => tf.sin(x!), torch: (_, __, c) => `torch.sin(${c.tensor(0)})`, dsl: 'sin', summary: 'Sine (radians).', inputs: ['x'], result: 'f32',
  scalar: Math.sin, grad: ([x], g) => [g * Math.cos(x!)], examples: [{ dsl: 'sin(0)', out: 0 }],
  js: { value: ([x]) => `Math.sin(${x})`, grad: ([x], g) => [`(${g} * Math.cos(${x}))`] },
  wgsl: { value: ([x]) => `sin(${x})`, grad: ([x], g) => [`(${g} * cos(${x}))`] },
});

export const floorOp = elementwise({
  name: 'floor', lower: (tf, [x]) => tf.floor(x!), torch: (_, __, c) => `torch.floor(${c.tensor(0)})`, dsl: 'floor', summary: 'The largest integer <= x (gradient 0).', inputs: ['x'], result: 'f32',
  scalar: Math.floor, grad: () => [0], examples: [{ dsl: 'floor(2.5)', out: 2 }],
  js: { value: ([x]) => `Math.floor(${x})`, grad: () => ['0'] },
  wgsl: { value: ([x]) => `floor(${x})`, grad: () => ['0.0'] },
});
