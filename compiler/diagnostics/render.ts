/** Render diagnostics: the rustc-style human form, a one-line form and JSON. */
import pc from 'picocolors';
import { lineCol, type Span } from '../../grammar/source.js';
import type { Diagnostic } from './diagnostic.js';
import { codeFrame } from './frame.js';

export type DiagnosticFormat = 'human' | 'short' | 'json';

/** `file:line:col` for a span's start. */
export function location(s: Span): string {
  const { line, column } = lineCol(s.file, s.start);
  return `${s.file.path}:${line}:${column}`;
}

function frame(s: Span, message: string | null): string {
  return codeFrame(s, message);
}

/** The rustc/TypeScript-style multi-line form with a code frame. */
export function renderHuman(d: Diagnostic, color: boolean): string {
  const c = pc.createColors(color);
  const sev = d.severity === 'error' ? c.red(c.bold(`error[${d.code}]`)) : c.yellow(c.bold(`warning[${d.code}]`));
  const lines = [`${sev}${c.bold(': ' + d.message)}`, `  ${c.blue('-->')} ${location(d.span)}`];
  // A file with no text (a binary batch file) has nothing to frame.
  if (d.span.file.text.length > 0) lines.push(indent(frame(d.span, d.spanLabel)));
  for (const l of d.labels) {
    lines.push(`  ${c.blue(':::')} ${location(l.span)}`);
    if (l.span.file.text.length > 0) lines.push(indent(frame(l.span, l.message)));
  }
  for (const n of d.notes) lines.push(`   ${c.blue('=')} ${c.bold('note')}: ${n}`);
  if (d.help !== null) lines.push(`   ${c.blue('=')} ${c.bold('help')}: ${d.help}`);
  return lines.join('\n');
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n');
}

/** The one-line form: `file:line:col: error[CODE]: message`. */
export function renderShort(d: Diagnostic): string {
  return `${location(d.span)}: ${d.severity}[${d.code}]: ${d.message}`;
}

/** A plain object for `--format json`. */
export function toJson(d: Diagnostic): object {
  const at = (s: Span): object => {
    const a = lineCol(s.file, s.start);
    const b = lineCol(s.file, s.end);
    return { file: s.file.path, start: s.start, end: s.end, line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
  };
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    span: at(d.span),
    spanLabel: d.spanLabel,
    labels: d.labels.map((l) => ({ span: at(l.span), message: l.message })),
    notes: d.notes,
    help: d.help,
  };
}

/** Render a list in the chosen format (JSON: one array). */
export function renderAll(ds: readonly Diagnostic[], format: DiagnosticFormat, color: boolean): string {
  if (format === 'json') return JSON.stringify(ds.map(toJson), null, 2);
  if (format === 'short') return ds.map(renderShort).join('\n');
  return ds.map((d) => renderHuman(d, color)).join('\n\n');
}
