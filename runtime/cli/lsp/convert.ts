/** Between the compiler's values (absolute paths, offsets, spans) and LSP's (URIs, positions, ranges). */
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as L from 'vscode-languageserver/node';
import { lineCol, type SourceFile, type Span } from '../../../grammar/source.js';
import type { Completion, CompletionKind } from '../../../compiler/api/complete.js';
import type { Diagnostic } from '../../../compiler/diagnostics/diagnostic.js';
import type { Analysis } from '../../../compiler/api/analysis.js';
import type { OutlineEntry, OutlineKind } from '../../../compiler/api/outline.js';
import type { TextEdit } from '../../../compiler/api/navigate.js';

/** `file:///abs/path` -> `/abs/path`. */
export function uriToPath(uri: string): string {
  return fileURLToPath(uri);
}

/** `/abs/path` -> `file:///abs/path`. */
export function pathToUri(path: string): string {
  return pathToFileURL(path).href;
}

/** The LSP position of an offset (UTF-16 code units, as JavaScript strings count). */
export function position(file: SourceFile, offset: number): L.Position {
  const lc = lineCol(file, offset);
  return { line: lc.line - 1, character: lc.column - 1 };
}

/** The offset of an LSP position in a text. */
export function offsetOf(file: SourceFile, p: L.Position): number {
  const start = file.lineStarts[p.line];
  if (start === undefined) return file.text.length;
  const next = file.lineStarts[p.line + 1] ?? file.text.length + 1;
  return Math.min(start + p.character, next - 1, file.text.length);
}

/** The LSP range of a span. */
export function range(s: Span): L.Range {
  return { start: position(s.file, s.start), end: position(s.file, s.end) };
}

/** What `rlp check --format json` adds to a diagnostic beyond its message, carried in `data`. */
export interface RlpDiagnosticData {
  readonly help: string | null;
  readonly notes: readonly string[];
  readonly spanLabel: string | null;
}

/** A compiler diagnostic as LSP's: code, message with its help and notes, labels as related information. */
export function toLspDiagnostic(a: Analysis, d: Diagnostic): L.Diagnostic {
  const extra = [...d.notes.map((n) => `note: ${n}`), ...(d.help !== null ? [`help: ${d.help}`] : [])];
  const related = d.labels.flatMap((l) => {
    const m = a.moduleOfFile(l.span.file);
    return m === undefined ? [] : [{ location: { uri: pathToUri(m.path), range: range(l.span) }, message: l.message }];
  });
  const data: RlpDiagnosticData = { help: d.help, notes: d.notes, spanLabel: d.spanLabel };
  return {
    range: range(d.span),
    severity: d.severity === 'error' ? 1 : 2,
    code: d.code,
    source: 'rlp',
    message: [d.message, ...extra].join('\n'),
    ...(related.length > 0 ? { relatedInformation: related } : {}),
    data,
  };
}

/** Edits grouped by file URI. */
export function workspaceEdit(edits: readonly TextEdit[]): L.WorkspaceEdit {
  const changes: Record<string, L.TextEdit[]> = {};
  for (const e of edits) (changes[pathToUri(e.path)] ??= []).push({ range: range(e.span), newText: e.newText });
  return { changes };
}

const COMPLETION_KINDS: Record<CompletionKind, L.CompletionItemKind> = {
  binding: 6, param: 5, state: 10, input: 21, reward: 3, op: 3, fn: 3, dim: 25, keyword: 14, block: 14, module: 9, type: 7, local: 6,
};

/** A completion item replacing the word typed so far. */
export function toCompletionItem(file: SourceFile, c: Completion, cursor: number): L.CompletionItem {
  return {
    label: c.label,
    kind: COMPLETION_KINDS[c.kind],
    detail: c.detail,
    ...(c.doc !== '' ? { documentation: { kind: 'markdown', value: c.doc } } : {}),
    textEdit: { range: { start: position(file, c.replaceStart), end: position(file, cursor) }, newText: c.label },
  };
}

const SYMBOL_KINDS: Record<OutlineKind, L.SymbolKind> = { pipeline: 5, block: 3, binding: 13, param: 7, state: 8, fn: 12, dim: 26 };

/** An outline entry as an LSP document symbol. */
export function toDocumentSymbol(e: OutlineEntry): L.DocumentSymbol {
  return { name: e.name, kind: SYMBOL_KINDS[e.kind], detail: e.detail, range: range(e.span), selectionRange: range(e.nameSpan), children: e.children.map(toDocumentSymbol) };
}
