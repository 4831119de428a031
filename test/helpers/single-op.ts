/** Graphs of one op on named inputs, for registry-driven conformance tests. */
import { IrBuilder, type IrGraph } from '../../compiler/ir/graph.js';
import { verifyIr } from '../../compiler/ir/verify.js';
import type { Attrs, OpDef } from '../../compiler/ops/define.js';
import { STANDARD_DIMS, type TensorType } from '../../compiler/types.js';

/** Build `y = op(x0, x1, ...)` with inputs of the given types; throws if the op rejects them. */
export function singleOpGraph(op: OpDef, types: readonly TensorType[], attrs: Attrs): IrGraph {
  const b = new IrBuilder();
  const ids = types.map((t, i) => b.add('input', [], { name: `x${i}` }, t, [], false));
  const problems: string[] = [];
  const t = op.infer(types, { attrs, dimOrder: STANDARD_DIMS, error: (code, args) => (problems.push(`${code} ${JSON.stringify(args)}`), null) });
  if (t === null) throw new Error(`${op.name} rejects its inputs: ${problems.join('; ')}`);
  const y = b.add(op.name, ids, attrs, t, [], op.traits.includes('effect'));
  const g = b.finish([{ name: 'loss.y', node: y }], { pipeline: op.name, doc: '', dimOrder: STANDARD_DIMS, params: [], state: [] });
  const errs = verifyIr(g);
  if (errs.length > 0) throw new Error(errs.join('; '));
  return g;
}
