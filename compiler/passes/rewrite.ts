/**
 * The one rewriting loop the passes share: visit nodes in order with their inputs already
 * rewritten, let the pass return a replacement node or an existing id to alias, merge
 * structurally equal pure nodes (hash-consing), and renumber what the outputs still reach.
 */
import type { IrGraph, IrNode } from '../ir/graph.js';
import { nodeKey, renumber } from '../ir/graph.js';

/** What a rule sees: the node (inputs rewritten) and the rewritten nodes so far. */
export type Rewrite = (n: IrNode, get: (id: number) => IrNode) => IrNode | number;

/** Apply a rewrite to every node of a graph. */
export function rewriteGraph(g: IrGraph, f: Rewrite): IrGraph {
  const nodes = new Map<number, IrNode>();
  const byKey = new Map<string, number>();
  const alias = new Map<number, number>();
  const resolve = (id: number): number => {
    let x = id;
    while (alias.has(x)) x = alias.get(x)!;
    return x;
  };
  const get = (id: number): IrNode => nodes.get(resolve(id))!;
  for (const n0 of g.ordered()) {
    const n = { ...n0, inputs: n0.inputs.map(resolve) };
    const r = f(n, get);
    if (typeof r === 'number') {
      alias.set(n.id, resolve(r));
      continue;
    }
    const key = r.effects ? null : nodeKey(r.op, r.inputs, r.attrs, r.type);
    const same = key === null ? undefined : byKey.get(key);
    if (same !== undefined) {
      alias.set(n.id, same);
      continue;
    }
    if (key !== null) byKey.set(key, r.id);
    nodes.set(r.id, { ...r, id: n.id });
  }
  const outputs = g.outputs.map((o) => ({ name: o.name, node: resolve(o.node) }));
  return renumber(nodes, outputs, g.meta);
}
