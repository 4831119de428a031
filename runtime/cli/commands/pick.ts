/** Choosing the pipeline a command works on, from a compiled file. */
import type { CompiledPipeline } from '../../../compiler/compile.js';
import { diag, type Diagnostic } from '../../../compiler/diagnostics/diagnostic.js';
import { didYouMean, listChoices } from '../../../compiler/suggest.js';
import type { CommandLine } from '../command-line.js';
import { UsageError } from '../io.js';

/** The pipeline named `wanted`, or the file's only one; a usage error otherwise. */
export function pickPipeline(pipelines: readonly CompiledPipeline[], wanted: string | null | undefined, file: string): CompiledPipeline {
  const names = pipelines.map((p) => p.name);
  if (wanted !== null && wanted !== undefined) {
    const p = pipelines.find((x) => x.name === wanted);
    if (p === undefined) throw new UsageError(`no pipeline \`${wanted}\` in ${file}; it has ${listChoices(names)}`);
    return p;
  }
  if (pipelines.length === 1) return pipelines[0]!;
  if (pipelines.length === 0) throw new UsageError(`${file} declares no pipeline`);
  throw new UsageError(`${file} declares ${listChoices(names)}: choose one with --pipeline`);
}

/** A `--pipeline NAME` that names no pipeline of the file, as a diagnostic on the command line; null when it names one. */
export function checkPipelineFlag(pipelines: readonly CompiledPipeline[], wanted: string | undefined, file: string, cl: CommandLine): Diagnostic | null {
  if (wanted === undefined || pipelines.some((p) => p.name === wanted)) return null;
  const names = pipelines.map((p) => p.name);
  return diag('RLP6031', cl.flag('--pipeline', wanted), { name: wanted, file }, { help: didYouMean(wanted, names) ?? `it declares ${listChoices(names)}` });
}
