/** Comparisons and logic: results are bool. */
import { elementwise } from './elementwise.js';

const b = (v: boolean): number => (v ? 1 : 0);
const none = (): readonly number[] => [0, 0];

export const lt = elementwise({ name: 'lt', lower: (tf, [x, y]) => tf.less(x!, y!), torch: ([x, y]) => `${x} < ${y}`, dsl: null, summary: 'Less than: x < y.', inputs: ['x', 'y'], result: 'bool', scalar: (x, y) => b(x < y), grad: none });
export const le = elementwise({ name: 'le', lower: (tf, [x, y]) => tf.lessEqual(x!, y!), torch: ([x, y]) => `${x} <= ${y}`, dsl: null, summary: 'At most: x <= y.', inputs: ['x', 'y'], result: 'bool', scalar: (x, y) => b(x <= y), grad: none });
export const gt = elementwise({ name: 'gt', lower: (tf, [x, y]) => tf.greater(x!, y!), torch: ([x, y]) => `${x} > ${y}`, dsl: null, summary: 'Greater than: x > y.', inputs: ['x', 'y'], result: 'bool', scalar: (x, y) => b(x > y), grad: none });
export const ge = elementwise({ name: 'ge', lower: (tf, [x, y]) => tf.greaterEqual(x!, y!), torch: ([x, y]) => `${x} >= ${y}`, dsl: null, summary: 'At least: x >= y.', inputs: ['x', 'y'], result: 'bool', scalar: (x, y) => b(x >= y), grad: none });
export const eq = elementwise({ name: 'eq', lower: (tf, [x, y]) => tf.equal(x!, y!), torch: ([x, y]) => `${x} == ${y}`, dsl: null, summary: 'Equal: x == y.', inputs: ['x', 'y'], result: 'bool', commutative: true, scalar: (x, y) => b(x === y), grad: none });
export const ne = elementwise({ name: 'ne', lower: (tf, [x, y]) => tf.notEqual(x!, y!), torch: ([x, y]) => `${x} != ${y}`, dsl: null, summary: 'Not equal: x != y.', inputs: ['x', 'y'], result: 'bool', commutative: true, scalar: (x, y) => b(x !== y), grad: none });

export const and = elementwise({
  name: 'and', lower: (tf, [x, y]) => tf.logicalAnd(x!, y!), torch: ([x, y]) => `${x} & ${y}`, dsl: null, summary: 'Logical and.', inputs: ['x', 'y'], accepts: 'bool', result: 'bool', commutative: true,
  product: true, scalar: (x, y) => b(x !== 0 && y !== 0), grad: none,
});
export const or = elementwise({
  name: 'or', lower: (tf, [x, y]) => tf.logicalOr(x!, y!), torch: ([x, y]) => `${x} | ${y}`, dsl: null, summary: 'Logical or.', inputs: ['x', 'y'], accepts: 'bool', result: 'bool', commutative: true,
  scalar: (x, y) => b(x !== 0 || y !== 0), grad: none,
});
export const not = elementwise({
  name: 'not', lower: (tf, [x]) => tf.logicalNot(x!), torch: (_, __, c) => `~${c.tensor(0)}`, dsl: null, summary: 'Logical not.', inputs: ['x'], accepts: 'bool', result: 'bool',
  scalar: (x) => b(x === 0), grad: () => [0],
});
