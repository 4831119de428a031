/** `rlp explain RLPxxxx|NAME|OP|ops`: the long form of a diagnostic, a pipeline or an op. */
import pc from 'picocolors';
import { opSignature } from '../../../compiler/api/describe.js';
import { STANDARD_INPUTS } from '../../../compiler/check/inputs.js';
import { compileFiles } from '../../../compiler/compile.js';
import { CODES, isKnownCode, codeInfo } from '../../../compiler/diagnostics/codes.js';
import type { IrGraph } from '../../../compiler/ir/graph.js';
import { formatRange } from '../../../compiler/ir/param-range.js';
import { formatNumber } from '../../../compiler/ir/print.js';
import { OPS } from '../../../compiler/ops/index.js';
import { closest } from '../../../compiler/suggest.js';
import { formatTypeFull } from '../../../compiler/types.js';
import { EXIT, UsageError, useColor } from '../io.js';
import { resolveTarget, stdlibPipelines } from '../resolve-target.js';

function explainCode(code: string): string {
  const c = codeInfo(code);
  return `${c.code}: ${c.title} (${c.severity})\n\n${c.explain}\n`;
}

function explainOp(name: string): string {
  const ops = OPS.filter((o) => o.dsl === name || o.name === name);
  return ops
    .map((o) => `${opSignature(o)}    [IR op \`${o.name}\`; ${o.traits.join(', ')}]\n  ${o.summary}\n`)
    .join('\n');
}

function listOps(): string {
  const rows = OPS.filter((o) => o.dsl !== null).map((o) => `  ${(o.dsl + (o.over === 'required' ? ' (over)' : '')).padEnd(22)} ${o.summary}`);
  return `Built-in ops (\`rlp explain NAME\` for one):\n${rows.join('\n')}\n\nOperators: + - * / ** < <= > >= == != and or not; indexing x[D=i].\n`;
}

/** The long description of a compiled pipeline: its doc, params, inputs and results. */
export function describePipeline(g: IrGraph, file: string, bold: (s: string) => string = (s) => s): string {
  const lines = [bold(`pipeline ${g.meta.pipeline}`) + `  (${file})`, ''];
  if (g.meta.doc !== '') lines.push(...g.meta.doc.split('\n').map((l) => '  ' + l), '');
  lines.push(bold('params'));
  for (const p of g.meta.params) {
    const d = (p.default === null ? '(required)' : `= ${typeof p.default === 'number' ? formatNumber(p.default) : JSON.stringify(p.default)}`) +
      (p.range === null ? '' : ` in ${formatRange(p.range)}`);
    lines.push(`  ${`${p.name}: ${p.type} ${d}`.padEnd(36)} ${p.doc}`);
    if (p.choices !== undefined) lines.push(`  ${''.padEnd(36)} one of ${p.choices.map((c) => JSON.stringify(c)).join(', ')}`);
  }
  const declared = g.meta.inputs ?? [];
  const standard = g.ordered().filter((n) => n.op === 'input' && !declared.some((i) => i.name === n.attrs['name']));
  lines.push('', bold('inputs'));
  for (const n of standard) {
    const name = String(n.attrs['name']);
    const doc = STANDARD_INPUTS.find((i) => i.name === name)?.doc ?? '';
    lines.push(`  ${`${name}: ${formatTypeFull(n.type)}`.padEnd(36)} ${doc}`);
  }
  if (declared.length > 0) {
    lines.push('', bold('declared inputs') + ' (fed by the batch like the standard ones)');
    for (const i of declared) lines.push(`  ${`${i.name}: ${formatTypeFull(i.type)}`.padEnd(36)} ${i.doc}`);
  }
  const rewards = g.ordered().filter((n) => n.op === 'reward_fn');
  if (rewards.length > 0) lines.push('', bold('reward functions'), ...rewards.map((n) => `  ${String(n.attrs['name'])}`));
  lines.push('', bold('results'));
  for (const o of g.outputs) lines.push(`  ${o.name.padEnd(28)} ${formatTypeFull(g.node(o.node).type)}`);
  return lines.join('\n') + '\n';
}

function stdlibNames(): string[] {
  return [...stdlibPipelines().keys()];
}

/** Run `rlp explain`; returns the exit code. */
export function runExplain(what: string): number {
  const up = what.toUpperCase();
  if (/^RLP\d{4}$/.test(up)) {
    if (!isKnownCode(up)) {
      const near = closest(up, CODES.map((c) => c.code));
      throw new UsageError(`no diagnostic ${up}${near !== null ? `; did you mean ${near}?` : ''}`);
    }
    process.stdout.write(explainCode(up));
    return EXIT.ok;
  }
  if (what === 'ops') {
    process.stdout.write(listOps());
    return EXIT.ok;
  }
  if (OPS.some((o) => o.dsl === what || o.name === what)) {
    process.stdout.write(explainOp(what));
    return EXIT.ok;
  }
  if (stdlibNames().includes(what) || what.endsWith('.rlp')) {
    const t = resolveTarget(what);
    const r = compileFiles([t.file]);
    const p = r.pipelines.find((x) => x.name === (t.pipeline ?? x.name));
    if (p === undefined) throw new UsageError(`\`${what}\` does not compile; run \`rlp check ${t.file}\``);
    const c = pc.createColors(useColor(process.stdout));
    process.stdout.write(describePipeline(p.raw, p.file, c.bold));
    return EXIT.ok;
  }
  const near = closest(what, [...stdlibNames(), ...OPS.flatMap((o) => (o.dsl === null ? [] : [o.dsl]))]);
  throw new UsageError(`nothing to explain for \`${what}\`${near !== null ? `; did you mean \`${near}\`?` : ''}; try a code like RLP3001, a pipeline like grpo, an op like clip, or \`ops\``);
}
