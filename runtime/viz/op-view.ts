/**
 * The op view (`rlp viz --ops`): one node per IR node, labelled with its op, attributes and the
 * source snippet it came from; each node sits in the stage of the first binding that computes it.
 */
import { standardInput } from '../../compiler/check/inputs.js';
import type { IrGraph, IrNode } from '../../compiler/ir/graph.js';
import { formatTypeFull } from '../../compiler/types.js';
import {
  edgeType, formatValue, isFused, leafKind, SHARED_PREFIX_CLUSTER, SHARED_PREFIX_INPUTS, spanInfo, stageClusters,
  type VizEdge, type VizGraph, type VizKind, type VizNode,
} from './model.js';
import type { BindingSource } from './sources.js';

/** Each computation node's stage: that of the first output (in stage order) whose computation reaches it. */
export function nodeStages(g: IrGraph, sources: ReadonlyMap<string, BindingSource>): Map<number, string> {
  const stage = new Map<number, string>();
  for (const o of g.outputs) {
    const s = sources.get(o.name)?.stage ?? (o.name === 'loss' ? 'loss' : o.name.split('.')[0]!);
    const stack = [o.node];
    while (stack.length > 0) {
      const id = stack.pop()!;
      const n = g.node(id);
      if (stage.has(id) || (leafKind(n) !== null && id !== o.node)) continue;
      stage.set(id, s);
      stack.push(...n.inputs);
    }
  }
  return stage;
}

function attrText(n: IrNode): string {
  const keys = Object.keys(n.attrs).filter((k) => k !== 'name' && k !== 'value').sort();
  return keys.length === 0 ? '' : `[${keys.map((k) => `${k}=${JSON.stringify(n.attrs[k])}`).join(', ')}]`;
}

function snippet(n: IrNode): string | null {
  const s = n.spans[0];
  if (s === undefined) return null;
  const text = s.file.text.slice(s.start, s.end).replace(/\s+/g, ' ').trim();
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function kindOf(n: IrNode): VizKind {
  const leaf = leafKind(n);
  if (leaf !== null) return leaf;
  return n.effects ? 'effect' : 'op';
}

/** Draw every IR node of `g`. */
export function opView(g: IrGraph, sources: ReadonlyMap<string, BindingSource>): VizGraph {
  const stages = nodeStages(g, sources);
  const outputsOf = new Map<number, string[]>();
  for (const o of g.outputs) outputsOf.set(o.node, [...(outputsOf.get(o.node) ?? []), o.name]);
  const nodes: VizNode[] = [];
  const edges = new Map<string, VizEdge>();
  for (const n of g.ordered()) {
    const kind = kindOf(n);
    const name = n.attrs['name'];
    const value = n.attrs['value'];
    const shared = kind === 'input' && SHARED_PREFIX_INPUTS.includes(String(name));
    const head = kind === 'const'
      ? formatValue(value as number | string | boolean)
      : `%${n.id} ${n.op}${name !== undefined ? ` ${String(name)}` : ''}${attrText(n)}`;
    const outs = outputsOf.get(n.id) ?? [];
    const snip = kind === 'op' || kind === 'effect' ? snippet(n) : null;
    const stage = stages.get(n.id) ?? null;
    const notes = [
      ...outs.map((o) => `bound as ${o}`),
      ...(kind === 'input' && standardInput(String(name)) !== undefined ? [standardInput(String(name))!.doc] : []),
      ...(shared ? ['computed by the shared-prefix policy forward'] : []),
      ...(isFused(n) ? [`fused kernel of ${n.spans.length} source place${n.spans.length === 1 ? '' : 's'}`] : []),
    ];
    nodes.push({
      id: `n${n.id}`,
      kind,
      lines: [head, ...(snip !== null ? [snip] : []), ...outs.map((o) => `-> ${o}`)],
      cluster: shared ? SHARED_PREFIX_CLUSTER.id : stage,
      fused: isFused(n),
      sharedPrefix: shared,
      diff: null,
      search: [...outs, ...outs.map((o) => o.slice(o.indexOf('.') + 1)), ...(name !== undefined ? [String(name)] : []), n.op],
      info: { title: `%${n.id} ${n.op}`, op: n.op, type: formatTypeFull(n.type), stage, spans: n.spans.slice(0, 5).map(spanInfo), notes },
    });
    for (const i of n.inputs) {
      const key = `n${i}->n${n.id}`;
      if (!edges.has(key)) edges.set(key, { from: `n${i}`, to: `n${n.id}`, label: g.node(i).op === 'const' ? '' : edgeType(g.node(i).type), diff: null });
    }
  }
  const clusters = stageClusters(new Set(stages.values()));
  if (nodes.some((n) => n.sharedPrefix)) clusters.unshift(SHARED_PREFIX_CLUSTER);
  return { name: g.meta.pipeline, title: `${g.meta.pipeline}: ops`, nodes, edges: [...edges.values()], clusters };
}
