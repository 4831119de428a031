/** `rlp viz --batch IN`: evaluate the pipeline on a batch (as `rlp eval` does) and summarize every value. */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import type { CompiledPipeline } from '../../../compiler/compile.js';
import { diag, type Diagnostic } from '../../../compiler/diagnostics/diagnostic.js';
import { renderAll } from '../../../compiler/diagnostics/render.js';
import { listChoices } from '../../../compiler/suggest.js';
import { span } from '../../../grammar/source.js';
import { BackendUnavailable, type BackendName } from '../../backends/index.js';
import { BATCH_EXTENSIONS, readBatch, type HostTensor } from '../../batch/read.js';
import { StepError } from '../../exec/executor.js';
import { summaryLines } from '../../viz/summaries.js';
import { UsageError, useColor } from '../io.js';

function report(ds: readonly Diagnostic[]): void {
  if (ds.length > 0) process.stderr.write(renderAll(ds, 'human', useColor(process.stderr)) + '\n');
}

/** Summary lines by output and input name, or null after reporting a user error. */
export async function batchSummaries(p: CompiledPipeline, file: string, set: Readonly<Record<string, string>>, backend: BackendName): Promise<Map<string, string> | null> {
  if (!(BATCH_EXTENSIONS as readonly string[]).includes(extname(file).toLowerCase())) throw new UsageError(`--batch takes a ${listChoices([...BATCH_EXTENSIONS])} file, found \`${file}\``);
  if (!existsSync(file)) throw new UsageError(`cannot read \`${file}\`: no such file`);
  const batch = readBatch(file);
  if (batch.diagnostics.length > 0) {
    report(batch.diagnostics);
    return null;
  }
  const { validateBatch } = await import('../../eval/validate.js');
  // NaN and infinities are what a user looks for here: accepted, and counted in the summaries.
  const v = validateBatch(p.ir, batch.entries, { set, grad: [], allowNonfinite: true, fileSpan: span(batch.file, 0, 0) });
  if (v.valid === null) {
    report(v.diagnostics);
    return null;
  }
  const { useBackend } = await import('../../backends/index.js');
  const { evaluate } = await import('../../eval/evaluate.js');
  try {
    const { tf, info } = await useBackend(backend);
    const results = await evaluate(tf, info.name, v.valid, []);
    const fed = new Map<string, HostTensor>(batch.entries.map((e) => [e.name, e.tensor]));
    return summaryLines(p.ir, results, fed);
  } catch (e) {
    if (e instanceof BackendUnavailable) {
      report([diag('RLP5001', span(batch.file, 0, 0), { backend: e.backend, detail: e.message }, { help: e.help })]);
      return null;
    }
    if (e instanceof StepError) {
      report([diag('RLP6020', e.node.spans[0]!, { detail: e.message })]);
      return null;
    }
    throw e;
  }
}
