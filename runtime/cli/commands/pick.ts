/** Choosing the pipeline a command works on, from a compiled file. */
import type { CompiledPipeline } from '../../../compiler/compile.js';
import { listChoices } from '../../../compiler/suggest.js';
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
