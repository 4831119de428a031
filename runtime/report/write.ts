/** Write a run's report: read the folder, draw its pipeline, and write one HTML file. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFiles } from '../../compiler/compile.js';
import { hasErrors } from '../../compiler/diagnostics/diagnostic.js';
import { toDot } from '../viz/dot.js';
import { drawPipeline } from '../viz/draw.js';
import { renderSvg } from '../viz/svg.js';
import { reportPage } from './page.js';
import { readRun } from './read.js';

/** The run's pipeline drawn with its resolved params, or why it cannot be. */
async function pipelineGraph(config: Readonly<Record<string, unknown>>): Promise<{ svg: string } | { missing: string }> {
  const file = config['file'];
  const name = config['pipeline'];
  if (typeof file !== 'string' || typeof name !== 'string') return { missing: 'config.json names no pipeline file' };
  if (!existsSync(file)) return { missing: `the pipeline's file ${file} is no longer there` };
  const r = compileFiles([file]);
  const p = r.pipelines.find((x) => x.name === name);
  if (hasErrors(r.diagnostics) || p === undefined) return { missing: `${file} no longer compiles to pipeline \`${name}\` (rlp check ${file})` };
  const params = (config['params'] ?? {}) as Record<string, number | string | boolean>;
  return { svg: await renderSvg(toDot(drawPipeline(r.program, p, { paramValues: params }).bindings.graph)) };
}

/** Write the report of the run in `dir` to `out` (default DIR/report.html); returns the path written. */
export async function writeReport(dir: string, version: string, out: string = join(dir, 'report.html')): Promise<string> {
  const run = readRun(dir);
  writeFileSync(out, reportPage(run, await pipelineGraph(run.config), version));
  return out;
}
