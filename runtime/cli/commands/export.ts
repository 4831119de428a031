/**
 * `rlp export FILE|NAME --target torch [--for verl|trl|plain] [-o OUT.py]`: a pipeline as Python
 * for PyTorch trainers (compiler/torch). Compiles only: TF.js is never loaded.
 */
import { writeFileSync } from 'node:fs';
import { compileFiles } from '../../../compiler/compile.js';
import { hasErrors } from '../../../compiler/diagnostics/diagnostic.js';
import { renderAll, type DiagnosticFormat } from '../../../compiler/diagnostics/render.js';
import { exportTorch, type ExportFor } from '../../../compiler/torch/export.js';
import { EXIT, UsageError, useColor } from '../io.js';
import { resolveTarget } from '../resolve-target.js';
import { pickPipeline } from './pick.js';

export const EXPORT_LANGUAGES = ['torch'] as const;

/** Options of `rlp export`. */
export interface ExportCmdOptions {
  readonly target: (typeof EXPORT_LANGUAGES)[number];
  readonly for: ExportFor;
  readonly output?: string;
  readonly pipeline?: string;
  readonly format: DiagnosticFormat;
}

/** Run `rlp export`; returns the exit code. */
export function runExport(target: string, opts: ExportCmdOptions): number {
  if (opts.output !== undefined && !opts.output.endsWith('.py')) throw new UsageError(`-o takes a .py file, found \`${opts.output}\``);
  const t = resolveTarget(target);
  const r = compileFiles([t.file]);
  const report = (ds: Parameters<typeof renderAll>[0]): void => {
    if (ds.length > 0) process.stderr.write(renderAll(ds, opts.format, useColor(process.stderr)) + '\n');
  };
  report(r.diagnostics);
  if (hasErrors(r.diagnostics)) return EXIT.user;
  const p = pickPipeline(r.pipelines, opts.pipeline ?? t.pipeline, t.file);
  const e = exportTorch(p, opts.for);
  report(e.diagnostics);
  if (hasErrors(e.diagnostics)) return EXIT.user;
  if (opts.output === undefined) process.stdout.write(e.code);
  else writeFileSync(opts.output, e.code);
  return EXIT.ok;
}
