/** The IR verifier: run after building and after every pass. */
import { opByName } from '../ops/index.js';
import { formatTypeFull, sameType } from '../types.js';
import type { IrGraph } from './graph.js';

/** Check the graph's invariants; returns a list of violations (empty when sound). */
export function verifyIr(g: IrGraph): string[] {
  const errs: string[] = [];
  let prev = -1;
  for (const n of g.ordered()) {
    if (n.id <= prev) errs.push(`%${n.id}: ids must ascend`);
    prev = n.id;
    const op = opByName(n.op);
    if (op === undefined) {
      errs.push(`%${n.id}: unknown op ${n.op}`);
      continue;
    }
    for (const i of n.inputs) {
      if (!g.nodes.has(i)) errs.push(`%${n.id}: dangling input %${i}`);
      else if (i >= n.id) errs.push(`%${n.id}: input %${i} does not come before its use`);
    }
    if (n.effects !== op.traits.includes('effect')) errs.push(`%${n.id}: effects flag disagrees with op ${n.op}`);
    if (!op.traits.includes('source') && n.inputs.every((i) => g.nodes.has(i))) {
      const types = n.inputs.map((i) => g.node(i).type);
      const problems: string[] = [];
      const t = op.infer(types, {
        attrs: n.attrs,
        dimOrder: g.meta.dimOrder,
        error: (code) => {
          problems.push(code);
          return null;
        },
      });
      if (t === null) errs.push(`%${n.id}: type rule of ${n.op} fails (${problems.join(', ')})`);
      else if (!sameType(t, n.type)) errs.push(`%${n.id}: type ${formatTypeFull(n.type)} but ${n.op} infers ${formatTypeFull(t)}`);
    }
  }
  for (const o of g.outputs) if (!g.nodes.has(o.node)) errs.push(`output ${o.name}: dangling %${o.node}`);
  if (!g.isAcyclic()) errs.push('the graph has a cycle');
  return errs;
}
