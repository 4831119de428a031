/** `rlp compile FILE|NAME --emit ir|json|dot`: the optimized IR of a file's pipelines. */
import { compileFiles, type CompiledPipeline } from '../../../compiler/compile.js';
import { hasErrors } from '../../../compiler/diagnostics/diagnostic.js';
import { renderAll, type DiagnosticFormat } from '../../../compiler/diagnostics/render.js';
import { irToDot, irToJson } from '../../../compiler/ir/export.js';
import type { IrGraph } from '../../../compiler/ir/graph.js';
import { printIr } from '../../../compiler/ir/print.js';
import { PASSES } from '../../../compiler/passes/index.js';
import { listChoices } from '../../../compiler/suggest.js';
import { EXIT, UsageError, useColor } from '../io.js';
import { resolveTarget } from '../resolve-target.js';

export const EMITS = ['ir', 'json', 'dot'] as const;
export type Emit = (typeof EMITS)[number];

/** Options of `rlp compile`. */
export interface CompileCmdOptions {
  readonly emit: Emit;
  readonly pipeline?: string;
  readonly optimize: boolean;
  readonly dumpIr?: string;
  readonly format: DiagnosticFormat;
}

function pick(p: CompiledPipeline, opts: CompileCmdOptions): IrGraph {
  if (opts.dumpIr !== undefined) {
    const m = /^after:(.+)$/.exec(opts.dumpIr);
    const names = ['build', ...PASSES.map((x) => x.name)];
    if (m === null || !names.includes(m[1]!)) throw new UsageError(`--dump-ir takes after:PASS with PASS one of ${listChoices(names)}`);
    return m[1] === 'build' ? p.raw : (p.after.get(m[1]!) ?? p.ir);
  }
  return opts.optimize ? p.ir : p.raw;
}

/** Run `rlp compile`; returns the exit code. */
export function runCompile(target: string, opts: CompileCmdOptions): number {
  const t = resolveTarget(target);
  const r = compileFiles([t.file]);
  if (r.diagnostics.length > 0) process.stderr.write(renderAll(r.diagnostics, opts.format, useColor(process.stderr)) + '\n');
  if (hasErrors(r.diagnostics)) return EXIT.user;
  const wanted = opts.pipeline ?? t.pipeline;
  const chosen = wanted === null || wanted === undefined ? r.pipelines : r.pipelines.filter((p) => p.name === wanted);
  if (chosen.length === 0) {
    const names = r.pipelines.map((p) => p.name);
    throw new UsageError(wanted != null ? `no pipeline \`${wanted}\` in ${t.file}; it has ${listChoices(names)}` : `${t.file} declares no pipeline`);
  }
  const graphs = chosen.map((p) => pick(p, opts));
  if (opts.emit === 'ir') process.stdout.write(graphs.map(printIr).join('\n'));
  else if (opts.emit === 'dot') process.stdout.write(graphs.map(irToDot).join('\n'));
  else process.stdout.write(JSON.stringify(graphs.length === 1 ? irToJson(graphs[0]!) : graphs.map(irToJson), null, 2) + '\n');
  return EXIT.ok;
}
