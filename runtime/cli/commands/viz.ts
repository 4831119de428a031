/**
 * `rlp viz FILE|NAME -o OUT.(dot|svg|html) [--ops] [--optimized | -O0 | -O1] [--diff OTHER] [--batch IN]`:
 * draw a pipeline. Opens nothing; prints the path it wrote. TF.js is loaded only for --batch.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { compileFiles, type CompileResult } from '../../../compiler/compile.js';
import { hasErrors } from '../../../compiler/diagnostics/diagnostic.js';
import { renderAll } from '../../../compiler/diagnostics/render.js';
import type { BackendName } from '../../backends/index.js';
import { diffView } from '../../viz/diff.js';
import { toDot } from '../../viz/dot.js';
import { drawPipeline } from '../../viz/draw.js';
import type { PageView } from '../../viz/html.js';
import type { VizGraph } from '../../viz/model.js';
import { EXIT, parseSets, UsageError, useColor } from '../io.js';
import { resolveTarget } from '../resolve-target.js';
import { pickPipeline } from './pick.js';

/** Options of `rlp viz`. */
export interface VizCmdOptions {
  readonly output: string;
  readonly ops: boolean;
  readonly optimized: boolean;
  /** `-O0`/`-O1`: 1 is `--optimized`; absent, the drawing is unoptimized. */
  readonly optLevel?: '0' | '1';
  readonly diff?: string;
  readonly batch?: string;
  readonly set: readonly string[];
  readonly pipeline?: string;
  readonly backend: BackendName;
}

/** The output forms, by file extension. */
export const VIZ_FORMATS = ['.dot', '.svg', '.html'] as const;

function compileTarget(target: string): { result: CompileResult; file: string; pipeline: string | null } | null {
  const t = resolveTarget(target);
  const result = compileFiles([t.file]);
  if (result.diagnostics.length > 0) process.stderr.write(renderAll(result.diagnostics, 'human', useColor(process.stderr)) + '\n');
  return hasErrors(result.diagnostics) ? null : { result, file: t.file, pipeline: t.pipeline };
}

/** A `--set` value as a label shows it: numbers and booleans as such, anything else as a string. */
function displayValue(v: string): number | boolean | string {
  if (v === 'true' || v === 'false') return v === 'true';
  return v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
}

/** Run `rlp viz`; returns the exit code. */
export async function runViz(target: string, o: VizCmdOptions): Promise<number> {
  const ext = extname(o.output).toLowerCase();
  if (!(VIZ_FORMATS as readonly string[]).includes(ext)) throw new UsageError(`-o takes a .dot, .svg or .html file, found \`${o.output}\``);
  if (o.diff !== undefined && o.ops) throw new UsageError('--diff draws the binding view; it does not combine with --ops');
  if (o.diff !== undefined && o.batch !== undefined) throw new UsageError('--diff and --batch exclude each other');
  if (o.optimized && o.optLevel === '0') throw new UsageError('--optimized draws the graph after the passes; it does not combine with -O0');
  const optimized = o.optimized || o.optLevel === '1';
  const set = parseSets(o.set);
  const a = compileTarget(target);
  if (a === null) return EXIT.user;
  const p = pickPipeline(a.result.pipelines, o.pipeline ?? a.pipeline, a.file);
  let summaries: Map<string, string> | undefined;
  if (o.batch !== undefined) {
    const { batchSummaries } = await import('./viz-batch.js');
    const s = await batchSummaries(p, o.batch, set, o.backend);
    if (s === null) return EXIT.user;
    summaries = s;
  }
  const paramValues = Object.fromEntries(Object.entries(set).map(([k, v]) => [k, displayValue(v)]));
  const drawn = drawPipeline(a.result.program, p, { optimized, paramValues, ...(summaries !== undefined ? { summaries } : {}) });
  let views: { name: string; graph: VizGraph }[];
  if (o.diff !== undefined) {
    const b = compileTarget(o.diff);
    if (b === null) return EXIT.user;
    const q = pickPipeline(b.result.pipelines, b.pipeline, b.file);
    const other = drawPipeline(b.result.program, q, { optimized });
    views = [{ name: 'diff', graph: diffView(drawn.bindings, other.bindings, [p.name, q.name]) }];
  } else {
    views = [{ name: 'bindings', graph: drawn.bindings.graph }, { name: 'ops', graph: drawn.ops }];
  }
  const initial = views.find((v) => v.name === (o.ops ? 'ops' : 'bindings')) ?? views[0]!;
  mkdirSync(dirname(o.output), { recursive: true });
  writeFileSync(o.output, await render(ext, views, initial));
  process.stdout.write(`${o.output}\n`);
  return EXIT.ok;
}

async function render(ext: string, views: readonly { name: string; graph: VizGraph }[], initial: { name: string; graph: VizGraph }): Promise<string> {
  if (ext === '.dot') return toDot(initial.graph);
  const { renderSvg } = await import('../../viz/svg.js');
  if (ext === '.svg') return renderSvg(toDot(initial.graph));
  const { graphPage } = await import('../../viz/html.js');
  const pages: PageView[] = [];
  for (const v of views) pages.push({ ...v, svg: await renderSvg(toDot(v.graph)) });
  const title = views.length === 1 ? initial.graph.title : `rlp viz: ${initial.graph.name}`;
  return graphPage(title, pages, initial.name);
}
