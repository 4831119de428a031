/**
 * Constant folding: elementwise ops whose inputs are all numeric literals become literals, and a
 * selection on a constant condition becomes its chosen branch (when the branch already has the
 * selection's type), so a choice param leaves no runtime branch in the IR.
 */
import type { IrNode } from '../ir/graph.js';
import { nodeKey, renumber } from '../ir/graph.js';
import { sameType } from '../types.js';
import { opByName } from '../ops/index.js';
import { definePass } from './define.js';

function isNumericConst(n: IrNode): boolean {
  return n.op === 'const' && typeof n.attrs['value'] !== 'string' && n.type.kind === 'tensor' && n.type.dims.length === 0;
}

export const foldConstants = definePass({
  name: 'fold-constants',
  summary: 'Evaluate elementwise ops on literals at compile time (by the op\'s reference semantics).',
  run(g) {
    const nodes = new Map<number, IrNode>();
    const byKey = new Map<string, number>();
    const alias = new Map<number, number>();
    for (const n0 of g.ordered()) {
      const n = { ...n0, inputs: n0.inputs.map((i) => alias.get(i) ?? i) };
      const op = opByName(n.op);
      const ins = n.inputs.map((i) => nodes.get(i)!);
      let out: IrNode = n;
      if (op?.traits.includes('selects') === true && isNumericConst(ins[0]!)) {
        const chosen = ins[Number(ins[0]!.attrs['value']) !== 0 ? 1 : 2]!;
        if (sameType(chosen.type, n.type)) {
          alias.set(n.id, chosen.id);
          continue;
        }
      }
      if (op?.scalar !== undefined && op.traits.includes('elementwise') && op.name !== 'stop_gradient' && ins.length > 0 && ins.every(isNumericConst)) {
        const xs = ins.map((c) => Number(c.attrs['value']));
        let v: number | boolean = op.scalar(...xs);
        if (n.type.kind === 'tensor' && n.type.dtype === 'i32') v = Math.trunc(v);
        if (n.type.kind === 'tensor' && n.type.dtype === 'bool') v = v !== 0;
        out = { ...n, op: 'const', inputs: [], attrs: { value: v } };
      }
      const key = out.effects ? null : nodeKey(out.op, out.inputs, out.attrs, out.type);
      const same = key === null ? undefined : byKey.get(key);
      if (same !== undefined) {
        alias.set(n.id, same);
        continue;
      }
      if (key !== null) byKey.set(key, out.id);
      nodes.set(out.id, out);
    }
    const outputs = g.outputs.map((o) => ({ name: o.name, node: alias.get(o.node) ?? o.node }));
    return renumber(nodes, outputs, g.meta);
  },
});
