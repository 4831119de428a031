/**
 * Mechanical fixes of diagnostics (code actions): a did-you-mean replacement, `where MASK` added
 * to an unmasked reduction, a coarser value wrapped in `expand(x, over D)`. Each reads the
 * diagnostic's span and the suggestion its help line already makes, so the fix says exactly
 * what the help says.
 */
import { spanText, type Span } from '../../grammar/source.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Analysis } from './analysis.js';
import type { TextEdit } from './navigate.js';

/** A fix: a title for the menu and its edits. */
export interface Fix {
  readonly title: string;
  readonly edits: readonly TextEdit[];
}

/** The fixes of one diagnostic (none when it has no mechanical fix). */
export function fixesFor(a: Analysis, d: Diagnostic): Fix[] {
  const m = a.moduleOfFile(d.span.file);
  if (m === undefined) return [];
  const edit = (span: Span, newText: string): TextEdit => ({ path: m.path, span, newText });
  const out: Fix[] = [];
  const mean = d.help === null ? null : /^did you mean `([^`]+)`\?$/.exec(d.help);
  if (mean !== null) {
    const old = spanText(d.span);
    const quoted = old.startsWith('"');
    const text = quoted ? `"${mean[1]}"` : mean[1]!;
    if (quoted || /^[A-Za-z_][A-Za-z0-9_]*$/.test(old)) out.push({ title: `replace \`${old}\` with \`${text}\``, edits: [edit(d.span, text)] });
  }
  const where = d.code === 'RLP3003' ? /`where ([A-Za-z_][A-Za-z0-9_]*)`/.exec(d.message) : null;
  if (where !== null && spanText(d.span).endsWith(')')) {
    const close = { file: d.span.file, start: d.span.end - 1, end: d.span.end - 1 };
    out.push({ title: `add \`where ${where[1]}\``, edits: [edit(close, `, where ${where[1]}`)] });
  }
  const expand = d.help === null ? null : /`expand\(x, over ([A-Za-z_][A-Za-z0-9_]*(?:, [A-Za-z_][A-Za-z0-9_]*)*)\)`/.exec(d.help);
  if (expand !== null) {
    const dims = expand[1]!.split(', ');
    const over = dims.length === 1 ? dims[0]! : `[${dims.join(', ')}]`;
    out.push({ title: `spread with \`expand(..., over ${over})\``, edits: [edit(d.span, `expand(${spanText(d.span)}, over ${over})`)] });
  }
  return out;
}
