/** Print a drawing as Graphviz DOT: stages as clusters, shapes by kind, fused and diff marks as styles. */
import type { DiffMark, VizEdge, VizGraph, VizKind, VizNode } from './model.js';

const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Shape and fill of each kind of node. */
const STYLE: Record<VizKind, string> = {
  binding: 'shape=box, style="rounded,filled", fillcolor="#ffffff"',
  loss: 'shape=box, style="rounded,filled,bold", fillcolor="#fde2e4", peripheries=2',
  effect: 'shape=box3d, style=filled, fillcolor="#ffe8cc"',
  op: 'shape=box, style="rounded,filled", fillcolor="#ffffff"',
  input: 'shape=invhouse, style=filled, fillcolor="#e8f0ff"',
  'reward-fn': 'shape=component, style=filled, fillcolor="#fff3cd"',
  state: 'shape=cylinder, style=filled, fillcolor="#e6f4ea"',
  param: 'shape=note, style=filled, fillcolor="#f1f1f1"',
  const: 'shape=plaintext, fontsize=9, fontcolor="#666666"',
};

const DIFF_FILL: Record<DiffMark, string> = { same: '', changed: '#fff0b3', 'only-a': '#ffd6d6', 'only-b': '#d6f5d6' };
const DIFF_EDGE: Record<DiffMark, string> = { same: '', changed: '', 'only-a': 'color="#c0392b", fontcolor="#c0392b", style=dashed', 'only-b': 'color="#1e8449", fontcolor="#1e8449", penwidth=1.6' };

function nodeLine(n: VizNode, indent: string): string {
  const fill = n.diff !== null && n.diff !== 'same' ? DIFF_FILL[n.diff] : null;
  const style = fill === null ? STYLE[n.kind] : STYLE[n.kind].replace(/fillcolor="[^"]*"/, `fillcolor="${fill}"`);
  const attrs = [`id="${esc(n.id)}"`, `label="${esc(n.lines.join('\n'))}"`, style];
  if (n.diff === 'changed') attrs.push('color="#b9770e", penwidth=2.5');
  else if (n.fused) attrs.push('color="#7b2cbf", penwidth=2.5');
  else if (n.sharedPrefix) attrs.push('penwidth=2');
  return `${indent}"${esc(n.id)}" [${attrs.join(', ')}];`;
}

function edgeLine(e: VizEdge): string {
  const attrs = e.label === '' ? [] : [`label="${esc(e.label)}"`];
  if (e.diff !== null && DIFF_EDGE[e.diff] !== '') attrs.push(DIFF_EDGE[e.diff]);
  if (e.implicit === true) attrs.push('style=dotted, arrowhead=open');
  return `  "${esc(e.from)}" -> "${esc(e.to)}"${attrs.length > 0 ? ` [${attrs.join(', ')}]` : ''};`;
}

/** The legend printed under the drawing. */
function legend(g: VizGraph): string {
  const parts = ['edges: type @m = valid only where mask m is 1, !m = zero where m is 0'];
  if (g.edges.some((e) => e.implicit === true)) parts.push('dotted = the rollout\'s completions, scored or run through the policy');
  if (g.nodes.some((n) => n.fused)) parts.push('purple outline = fused kernel');
  if (g.nodes.some((n) => n.diff !== null && n.diff !== 'same')) parts.push('yellow = differs, red = only in the first, green = only in the second');
  return parts.join('; ');
}

/** Graphviz DOT for a drawing. Deterministic: nodes and edges in the model's order. */
export function toDot(g: VizGraph): string {
  const lines = [
    `digraph "${esc(g.name)}" {`,
    `  graph [rankdir=TB, fontname="Helvetica", fontsize=11, labelloc=b, label="${esc(`${g.title}\n${legend(g)}`)}", nodesep=0.3, ranksep=0.45];`,
    '  node [fontname="Courier", fontsize=10];',
    '  edge [fontname="Courier", fontsize=8, color="#555555", fontcolor="#555555"];',
  ];
  for (const c of g.clusters) {
    const members = g.nodes.filter((n) => n.cluster === c.id);
    if (members.length === 0) continue;
    lines.push(`  subgraph "cluster_${esc(c.id)}" {`);
    lines.push(`    label="${esc(c.label)}"; id="cluster-${esc(c.id)}"; labelloc=t; fontname="Helvetica"; style="${c.dashed ? 'dashed,rounded' : 'rounded,filled'}"; ${c.dashed ? 'color="#2471a3"' : 'fillcolor="#f6f8fa"; color="#c8d1dc"'};`);
    for (const n of members) lines.push(nodeLine(n, '    '));
    lines.push('  }');
  }
  const clustered = new Set(g.clusters.map((c) => c.id));
  for (const n of g.nodes) if (n.cluster === null || !clustered.has(n.cluster)) lines.push(nodeLine(n, '  '));
  for (const e of g.edges) lines.push(edgeLine(e));
  lines.push('}');
  return lines.join('\n') + '\n';
}
