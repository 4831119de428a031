/**
 * `rlp viz A --diff B`: one binding view of both pipelines. A binding both compute alike is drawn
 * once; one that differs shows both expressions, highlighted; one in a single pipeline is coloured
 * by the side it belongs to. Edges are merged the same way.
 */
import type { BindingView } from './binding-view.js';
import { type DiffMark, type VizEdge, type VizGraph, type VizNode } from './model.js';

function mergeNode(a: VizNode | undefined, b: VizNode | undefined, sa: string | undefined, sb: string | undefined, names: [string, string]): VizNode {
  if (a !== undefined && b !== undefined) {
    if (sa === sb && a.lines.join('\n') === b.lines.join('\n')) return { ...a, diff: 'same' };
    const note = `differs: ${names[0]} and ${names[1]} compute it differently`;
    return { ...b, lines: bothSides(a, b, names), diff: 'changed', fused: a.fused || b.fused, info: { ...b.info, spans: [...a.info.spans, ...b.info.spans], notes: [note, ...b.info.notes] } };
  }
  const only = (a ?? b)!;
  const side: DiffMark = a !== undefined ? 'only-a' : 'only-b';
  const who = side === 'only-a' ? names[0] : names[1];
  return { ...only, lines: [`only in ${who}`, ...only.lines], diff: side, info: { ...only.info, notes: [`only in ${who}`, ...only.info.notes] } };
}

/** Both sides' labels of a changed node, each headed by its pipeline's name. */
function bothSides(a: VizNode, b: VizNode, names: [string, string]): string[] {
  const head = (n: VizNode, who: string): string[] => n.lines.map((l, i) => (i === 0 ? `${who}: ${l}` : `  ${l}`));
  return [...head(a, names[0]), ...head(b, names[1])];
}

/** Merge the binding views of two pipelines into one drawing. */
export function diffView(a: BindingView, b: BindingView, names: [string, string]): VizGraph {
  const byA = new Map(a.graph.nodes.map((n) => [n.id, n]));
  const byB = new Map(b.graph.nodes.map((n) => [n.id, n]));
  const ids = [...a.graph.nodes.map((n) => n.id), ...b.graph.nodes.map((n) => n.id).filter((id) => !byA.has(id))];
  const nodes = ids.map((id) => mergeNode(byA.get(id), byB.get(id), a.signatures.get(id), b.signatures.get(id), names));
  const key = (e: VizEdge): string => `${e.from}->${e.to}`;
  const edgesA = new Map(a.graph.edges.map((e) => [key(e), e]));
  const edgesB = new Map(b.graph.edges.map((e) => [key(e), e]));
  const edges: VizEdge[] = [];
  for (const [k, e] of edgesA) edges.push({ ...e, diff: edgesB.has(k) ? 'same' : 'only-a' });
  for (const [k, e] of edgesB) if (!edgesA.has(k)) edges.push({ ...e, diff: 'only-b' });
  const clusterIds = new Set<string>();
  const clusters = [...a.graph.clusters, ...b.graph.clusters].filter((c) => !clusterIds.has(c.id) && clusterIds.add(c.id));
  const differing = nodes.filter((n) => n.diff !== 'same').length;
  return {
    name: `${names[0]}_vs_${names[1]}`,
    title: `${names[0]} vs ${names[1]}: ${differing} of ${nodes.length} nodes differ`,
    nodes,
    edges,
    clusters,
  };
}
