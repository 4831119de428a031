/** Diagnostics as values: what every phase returns beside its result. */
import type { Span } from '../../grammar/source.js';
import { codeInfo, type Args, type Severity } from './codes.js';

/** A secondary location with its own short message. */
export interface Label {
  readonly span: Span;
  readonly message: string;
}

/** One user-facing problem with a code, a primary span, labels, notes and help. */
export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  /** Text shown under the primary caret. */
  readonly spanLabel: string | null;
  readonly labels: readonly Label[];
  readonly notes: readonly string[];
  readonly help: string | null;
}

/** Optional parts of a diagnostic. */
export interface DiagnosticExtras {
  readonly spanLabel?: string;
  readonly labels?: readonly Label[];
  readonly notes?: readonly string[];
  readonly help?: string | null;
}

/** Build a diagnostic from the code table. */
export function diag(code: string, span: Span, args: Args = {}, extras: DiagnosticExtras = {}): Diagnostic {
  const info = codeInfo(code);
  return {
    code,
    severity: info.severity,
    message: info.message(args),
    span,
    spanLabel: extras.spanLabel ?? null,
    labels: extras.labels ?? [],
    notes: extras.notes ?? [],
    help: extras.help ?? null,
  };
}

/** A broken compiler invariant: rendered as "this is a bug", exit code 70. */
export class InternalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InternalError';
  }
}

/** Whether any diagnostic is an error (warnings do not fail a check). */
export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

/** Sort by file, then position, then code; drop exact duplicates. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of ds) {
    const key = `${d.span.file.path}:${d.span.start}:${d.span.end}:${d.code}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out.sort(
    (a, b) =>
      a.span.file.path.localeCompare(b.span.file.path) || a.span.start - b.span.start || a.code.localeCompare(b.code),
  );
}
