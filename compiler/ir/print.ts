/** The textual IR: a stable, diff-friendly, jaxpr-like form. */
import type { AttrValue } from '../ops/define.js';
import { formatTypeFull } from '../types.js';
import type { IrGraph, IrNode } from './graph.js';
import { formatRange } from './param-range.js';
import { formatNumber } from './print-number.js';

function attr(v: AttrValue): string {
  if (Array.isArray(v)) return `[${v.join(',')}]`;
  if (typeof v === 'number') return formatNumber(v);
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

export { formatNumber };

function nodeLine(n: IrNode): string {
  const keys = Object.keys(n.attrs).sort();
  const attrs = keys.length === 0 ? '' : `[${keys.map((k) => `${k}=${attr(n.attrs[k]!)}`).join(', ')}]`;
  const args = n.inputs.map((i) => ` %${i}`).join('');
  const eff = n.effects ? ' !effect' : '';
  return `  %${n.id} = ${n.op}${attrs}${args} : ${formatTypeFull(n.type)}${eff}`;
}

/** Print one pipeline graph. */
export function printIr(g: IrGraph): string {
  const params = g.meta.params
    .map((p) => (p.chosen !== undefined ? `${p.name}: choice = ${JSON.stringify(p.chosen)}` : `${p.name}: ${p.type}${p.default === null ? '' : ` = ${typeof p.default === 'number' ? formatNumber(p.default) : JSON.stringify(p.default)}`}${p.range === null ? '' : ` in ${formatRange(p.range)}`}`))
    .join(', ');
  const lines = [`pipeline ${g.meta.pipeline}(${params}) {`];
  for (const s of g.meta.state) lines.push(`  state ${s.name} : ${formatTypeFull(s.type)} = ${String(s.init)}`);
  for (const n of g.ordered()) lines.push(nodeLine(n));
  for (const o of g.outputs) lines.push(`  ${o.name} = %${o.node}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
