/** `rlp check FILE...`: diagnostics; exit 1 on any error, warnings do not fail. */
import { compileFiles, type CompileOptions } from '../../../compiler/compile.js';
import { hasErrors } from '../../../compiler/diagnostics/diagnostic.js';
import { renderAll, type DiagnosticFormat } from '../../../compiler/diagnostics/render.js';
import { EXIT, useColor } from '../io.js';

/** Options of `rlp check`. */
export interface CheckOptions {
  readonly format: DiagnosticFormat;
  /** What the run provides: reward functions besides the built-ins, the data's columns. */
  readonly compile?: CompileOptions;
}

/** Run `rlp check`; returns the exit code. */
export function runCheck(files: readonly string[], opts: CheckOptions): number {
  // Diagnostics come from checking; the optimization passes add none, so check skips them.
  const r = compileFiles(files, { passes: [], ...opts.compile });
  const ds = r.diagnostics;
  if (opts.format === 'json') {
    process.stdout.write(renderAll(ds, 'json', false) + '\n');
  } else {
    if (ds.length > 0) process.stderr.write(renderAll(ds, opts.format, useColor(process.stderr)) + '\n');
    const errors = ds.filter((d) => d.severity === 'error').length;
    const warnings = ds.length - errors;
    const summary =
      ds.length === 0
        ? `checked ${files.length} file${files.length === 1 ? '' : 's'}: no problems`
        : `checked ${files.length} file${files.length === 1 ? '' : 's'}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
    process.stderr.write((opts.format === 'human' && ds.length > 0 ? '\n' : '') + summary + '\n');
  }
  return hasErrors(ds) ? EXIT.user : EXIT.ok;
}
