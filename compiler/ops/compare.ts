/** Comparisons and logic: results are bool. */
import type { JsTemplate, LowerFn, WgslTemplate } from './define.js';
import { elementwise } from './elementwise.js';

/**
 * Comparisons and logic have no gradient. Lowered inside `tf.customGrad` with zero input
 * gradients, so TF.js autodiff passes through them (it has no gradient for Less, LogicalAnd...)
 * when a condition is computed from a value that depends on the differentiated input, e.g.
 * `float(stop_gradient(exp(logp)) <= q)`.
 */
function gradientFree(lower: LowerFn): LowerFn {
  return (tf, xs, attrs, ctx) => {
    const f = tf.customGrad((...args) => ({
      value: lower(tf, args.slice(0, xs.length) as typeof xs, attrs, ctx),
      gradFunc: () => xs.map((x) => tf.zeros(x!.shape, 'float32')),
    }));
    return f(...(xs as Parameters<typeof f>));
  };
}

const b = (v: boolean): number => (v ? 1 : 0);
const none = (): readonly number[] => [0, 0];
/** A comparison's WGSL template: 1.0 or 0.0, no gradient. */
const wcmp = (o: string): WgslTemplate => ({ value: ([x, y]) => `select(0.0, 1.0, ${x} ${o} ${y})`, grad: () => ['0.0', '0.0'] });
/** A comparison's kernel template: 1 or 0, no gradient. */
const cmp = (o: string): JsTemplate => ({ value: ([x, y]) => `(${x} ${o} ${y} ? 1 : 0)`, grad: () => ['0', '0'] });

export const lt = elementwise({ name: 'lt', lower: gradientFree((tf, [x, y]) => tf.less(x!, y!)), torch: ([x, y]) => `${x} < ${y}`, dsl: null, summary: 'Less than: x < y.', inputs: ['x', 'y'], result: 'bool', scalar: (x, y) => b(x < y), grad: none,
  js: cmp('<'),
  wgsl: wcmp('<'),
});
export const le = elementwise({ name: 'le', lower: gradientFree((tf, [x, y]) => tf.lessEqual(x!, y!)), torch: ([x, y]) => `${x} <= ${y}`, dsl: null, summary: 'At most: x <= y.', inputs: ['x', 'y'], result: 'bool', scalar: (x, y) => b(x <= y), grad: none,
  js: cmp('<='),
  wgsl: wcmp('<='),
});
export const gt = elementwise({ name: 'gt', lower: gradientFree((tf, [x, y]) => tf.greater(x!, y!)), torch: ([x, y]) => `${x} > ${y}`, dsl: null, summary: 'Greater than: x > y.', inputs: ['x', 'y'], result: 'bool', scalar: (x, y) => b(x > y), grad: none,
  js: cmp('>'),
  wgsl: wcmp('>'),
});
export const ge = elementwise({ name: 'ge', lower: gradientFree((tf, [x, y]) => tf.greaterEqual(x!, y!)), torch: ([x, y]) => `${x} >= ${y}`, dsl: null, summary: 'At least: x >= y.', inputs: ['x', 'y'], result: 'bool', scalar: (x, y) => b(x >= y), grad: none,
  js: cmp('>='),
  wgsl: wcmp('>='),
});
export const eq = elementwise({ name: 'eq', lower: gradientFree((tf, [x, y]) => tf.equal(x!, y!)), torch: ([x, y]) => `${x} == ${y}`, dsl: null, summary: 'Equal: x == y.', inputs: ['x', 'y'], result: 'bool', commutative: true, scalar: (x, y) => b(x === y), grad: none,
  js: cmp('==='),
  wgsl: wcmp('=='),
});
export const ne = elementwise({ name: 'ne', lower: gradientFree((tf, [x, y]) => tf.notEqual(x!, y!)), torch: ([x, y]) => `${x} != ${y}`, dsl: null, summary: 'Not equal: x != y.', inputs: ['x', 'y'], result: 'bool', commutative: true, scalar: (x, y) => b(x !== y), grad: none,
  js: cmp('!=='),
  wgsl: wcmp('!='),
});

export const and = elementwise({
  name: 'and', lower: gradientFree((tf, [x, y]) => tf.logicalAnd(x!, y!)), torch: ([x, y]) => `${x} & ${y}`, dsl: null, summary: 'Logical and.', inputs: ['x', 'y'], accepts: 'bool', result: 'bool', commutative: true,
  product: true, scalar: (x, y) => b(x !== 0 && y !== 0), grad: none,
  js: { value: ([x, y]) => `(${x} !== 0 && ${y} !== 0 ? 1 : 0)`, grad: () => ['0', '0'] },
  wgsl: { value: ([x, y]) => `select(0.0, 1.0, ${x} != 0.0 && ${y} != 0.0)`, grad: () => ['0.0', '0.0'] },
});
export const or = elementwise({
  name: 'or', lower: gradientFree((tf, [x, y]) => tf.logicalOr(x!, y!)), torch: ([x, y]) => `${x} | ${y}`, dsl: null, summary: 'Logical or.', inputs: ['x', 'y'], accepts: 'bool', result: 'bool', commutative: true,
  scalar: (x, y) => b(x !== 0 || y !== 0), grad: none,
  js: { value: ([x, y]) => `(${x} !== 0 || ${y} !== 0 ? 1 : 0)`, grad: () => ['0', '0'] },
  wgsl: { value: ([x, y]) => `select(0.0, 1.0, ${x} != 0.0 || ${y} != 0.0)`, grad: () => ['0.0', '0.0'] },
});
export const not = elementwise({
  name: 'not', lower: gradientFree((tf, [x]) => tf.logicalNot(x!)), torch: (_, __, c) => `~${c.tensor(0)}`, dsl: null, summary: 'Logical not.', inputs: ['x'], accepts: 'bool', result: 'bool',
  scalar: (x) => b(x === 0), grad: () => [0],
  js: { value: ([x]) => `(${x} === 0 ? 1 : 0)`, grad: () => ['0'] },
  wgsl: { value: ([x]) => `select(0.0, 1.0, ${x} == 0.0)`, grad: () => ['0.0'] },
});
