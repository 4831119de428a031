/**
 * Algebraic simplification by a table of identities. A rule fires only where the replacement
 * has the node's exact type (dtype, dims, padding), so nothing downstream changes type, and only
 * for identities exact in IEEE arithmetic (x * 0 -> 0 is not one: inf * 0 is NaN).
 */
import type { IrNode } from '../ir/graph.js';
import { sameType } from '../types.js';
import { definePass } from './define.js';
import { rewriteGraph } from './rewrite.js';

type Get = (id: number) => IrNode;

/** One identity: for nodes of `op`, the input to forward, or null when it does not apply. */
interface Rule {
  readonly op: string;
  readonly doc: string;
  readonly apply: (n: IrNode, get: Get) => number | null;
}

const constValue = (n: IrNode): number | boolean | null => {
  if (n.op !== 'const' || n.type.kind !== 'tensor' || n.type.dims.length !== 0) return null;
  const v = n.attrs['value'];
  return typeof v === 'number' || typeof v === 'boolean' ? v : null;
};
const isConst = (get: Get, id: number, v: number | boolean): boolean => {
  const c = constValue(get(id));
  return c !== null && Number(c) === Number(v);
};

/** The identities, one comment each. */
export const RULES: readonly Rule[] = Object.freeze([
  // x + 0 = x and 0 + x = x (exact: x + 0 is x for every float, -0 aside, which no loss observes).
  { op: 'add', doc: 'x + 0 = x', apply: (n, get) => (isConst(get, n.inputs[1]!, 0) ? n.inputs[0]! : isConst(get, n.inputs[0]!, 0) ? n.inputs[1]! : null) },
  // x - 0 = x.
  { op: 'sub', doc: 'x - 0 = x', apply: (n, get) => (isConst(get, n.inputs[1]!, 0) ? n.inputs[0]! : null) },
  // x * 1 = x and 1 * x = x (exact for every float, inf and NaN included).
  { op: 'mul', doc: 'x * 1 = x', apply: (n, get) => (isConst(get, n.inputs[1]!, 1) ? n.inputs[0]! : isConst(get, n.inputs[0]!, 1) ? n.inputs[1]! : null) },
  // x / 1 = x.
  { op: 'div', doc: 'x / 1 = x', apply: (n, get) => (isConst(get, n.inputs[1]!, 1) ? n.inputs[0]! : null) },
  // x ** 1 = x.
  { op: 'pow', doc: 'x ** 1 = x', apply: (n, get) => (isConst(get, n.inputs[1]!, 1) ? n.inputs[0]! : null) },
  // -(-x) = x.
  { op: 'neg', doc: '-(-x) = x', apply: (n, get) => (get(n.inputs[0]!).op === 'neg' ? get(n.inputs[0]!).inputs[0]! : null) },
  // select(true, a, b) = a and select(false, a, b) = b: a param-specialized switch keeps one branch.
  {
    op: 'select', doc: 'select(true, a, b) = a; select(false, a, b) = b',
    apply: (n, get) => {
      const c = constValue(get(n.inputs[0]!));
      return c === null ? null : Number(c) !== 0 ? n.inputs[1]! : n.inputs[2]!;
    },
  },
  // x and true = x; true and x = x.
  { op: 'and', doc: 'x and true = x', apply: (n, get) => (isConst(get, n.inputs[1]!, true) ? n.inputs[0]! : isConst(get, n.inputs[0]!, true) ? n.inputs[1]! : null) },
  // x or false = x; false or x = x.
  { op: 'or', doc: 'x or false = x', apply: (n, get) => (isConst(get, n.inputs[1]!, false) ? n.inputs[0]! : isConst(get, n.inputs[0]!, false) ? n.inputs[1]! : null) },
  // float(x) = x when x is already f32.
  { op: 'float', doc: 'float(x) = x for f32 x', apply: (n) => n.inputs[0]! },
  // stop_gradient(stop_gradient(x)) = stop_gradient(x).
  { op: 'stop_gradient', doc: 'stop_gradient is idempotent', apply: (n, get) => (get(n.inputs[0]!).op === 'stop_gradient' ? n.inputs[0]! : null) },
]);

export const simplify = definePass({
  name: 'simplify',
  summary: 'Apply algebraic identities from a rule table, where the result keeps its exact type.',
  run: (g) =>
    rewriteGraph(g, (n, get) => {
      for (const r of RULES) {
        if (r.op !== n.op) continue;
        const to = r.apply(n, get);
        if (to !== null && sameType(get(to).type, n.type)) return to;
      }
      return n;
    }),
});
