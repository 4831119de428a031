/** Machine-readable forms of the IR: JSON and Graphviz DOT. */
import { formatTypeFull } from '../types.js';
import type { IrGraph } from './graph.js';

/** A plain JSON object for `--emit json`; stable key order. */
export function irToJson(g: IrGraph): object {
  return {
    pipeline: g.meta.pipeline,
    doc: g.meta.doc,
    dims: g.meta.dimOrder,
    params: g.meta.params,
    state: g.meta.state.map((s) => ({ name: s.name, type: formatTypeFull(s.type), init: s.init })),
    inputs: (g.meta.inputs ?? []).map((i) => ({ name: i.name, type: formatTypeFull(i.type), doc: i.doc })),
    nodes: g.ordered().map((n) => ({
      id: n.id,
      op: n.op,
      inputs: n.inputs,
      attrs: n.attrs,
      type: formatTypeFull(n.type),
      effects: n.effects,
      spans: n.spans.map((s) => ({ file: s.file.path, start: s.start, end: s.end })),
    })),
    outputs: Object.fromEntries(g.outputs.map((o) => [o.name, o.node])),
  };
}

function esc(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** Graphviz DOT: one box per node, outputs as labelled ellipses. */
export function irToDot(g: IrGraph): string {
  const lines = [`digraph "${esc(g.meta.pipeline)}" {`, '  rankdir=TB;', '  node [shape=box, fontname="monospace", fontsize=10];'];
  for (const n of g.ordered()) {
    const a = n.attrs['name'] ?? n.attrs['value'];
    const head = a === undefined ? n.op : `${n.op} ${typeof a === 'string' ? a : String(a)}`;
    const style = n.effects ? ', style=filled, fillcolor="#ffe8cc"' : n.inputs.length === 0 ? ', style=filled, fillcolor="#e8f0ff"' : '';
    lines.push(`  n${n.id} [label="%${n.id} ${esc(head)}\\n${esc(formatTypeFull(n.type))}"${style}];`);
    for (const i of n.inputs) lines.push(`  n${i} -> n${n.id};`);
  }
  g.outputs.forEach((o, k) => {
    lines.push(`  o${k} [label="${esc(o.name)}", shape=ellipse];`);
    lines.push(`  n${o.node} -> o${k} [style=dashed];`);
  });
  lines.push('}');
  return lines.join('\n') + '\n';
}
