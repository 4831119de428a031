/** The compiler driver: files -> modules -> flattened pipelines -> checked IR -> passes. */
import { resolve } from 'node:path';
import { fsHost, type CompilerHost } from './bind/host.js';
import { loadProgram, type Module, type Program } from './bind/modules.js';
import { Flattener } from './check/flatten.js';
import { PipelineChecker } from './check/pipeline.js';
import { diag, InternalError, sortDiagnostics, type Diagnostic } from './diagnostics/diagnostic.js';
import type { IrGraph } from './ir/graph.js';
import { verifyIr } from './ir/verify.js';
import { DEFAULT_PIPELINE } from './passes/index.js';
import type { Pass } from './passes/define.js';
import { STANDARD_DIMS, type Type } from './types.js';
import type { PipelineDecl } from '../grammar/ast.js';
import { makeSource, span } from '../grammar/source.js';

/** One compiled pipeline: its IR before and after the passes. */
export interface CompiledPipeline {
  readonly name: string;
  readonly file: string;
  readonly raw: IrGraph;
  readonly ir: IrGraph;
  /** The graph after each pass, by pass name (for `--dump-ir after:NAME`). */
  readonly after: ReadonlyMap<string, IrGraph>;
}

/** The result of compiling some files. */
export interface CompileResult {
  readonly program: Program;
  readonly pipelines: readonly CompiledPipeline[];
  readonly diagnostics: readonly Diagnostic[];
  /** Side table: the type of every binding and state variable that checked, by pipeline declaration. */
  readonly types: ReadonlyMap<PipelineDecl, ReadonlyMap<string, Type>>;
}

/** Options of a compilation. */
export interface CompileOptions {
  readonly host?: CompilerHost;
  readonly passes?: readonly Pass[];
  /** Reward functions a run provides besides the built-ins (a --rewards module's exports). */
  readonly rewards?: readonly string[];
  /** Columns those functions declare they read (`fn.columns = [...]`), by name. */
  readonly rewardColumns?: Readonly<Record<string, readonly string[]>>;
  /** The data a run reads: every column a named reward function reads must be in every row. */
  readonly data?: DataColumns;
  /** `--set NAME=VALUE` values: those naming a choice param pick its value at compile time (others are runtime params). */
  readonly set?: Readonly<Record<string, string>>;
}

/** The columns of a run's data (a JSONL file or a built-in task). */
export interface DataColumns {
  /** How to name it in messages, e.g. `data.jsonl` or `the built-in task arithmetic`. */
  readonly source: string;
  /** Columns every row has. */
  readonly columns: readonly string[];
  /** Columns only some rows have, with the line of the first row without it. */
  readonly partial?: Readonly<Record<string, number>>;
}

/** Compile files: check everything reachable, build and optimize the pipelines declared in them. */
export function compileFiles(paths: readonly string[], opts: CompileOptions = {}): CompileResult {
  const host = opts.host ?? fsHost();
  const diagnostics: Diagnostic[] = [];
  for (const p of paths) {
    if (host.read(resolve(p)) === undefined) {
      diagnostics.push(diag('RLP2001', span(makeSource(p, ''), 0, 0), { path: p }));
    }
  }
  const program = loadProgram(paths, host);
  diagnostics.push(...program.diagnostics);
  const flattener = new Flattener(diagnostics);
  const pipelines: CompiledPipeline[] = [];
  const types = new Map<PipelineDecl, ReadonlyMap<string, Type>>();
  for (const m of program.roots) {
    const dimOrder = visibleDims(m, program);
    for (const item of m.ast?.items ?? []) {
      if (item.kind !== 'Pipeline') continue;
      const flat = flattener.flatten(item, m);
      if (flat === null) continue;
      const checker = new PipelineChecker(flat, dimOrder, diagnostics, opts.rewards ?? [], opts.rewardColumns ?? {}, opts.data ?? null, opts.set ?? {});
      const raw = checker.run();
      types.set(item, checker.valueTypes());
      if (raw === null) continue;
      pipelines.push(optimize(item.name.name, m.file.path, raw, opts.passes ?? DEFAULT_PIPELINE));
    }
  }
  return { program, pipelines, diagnostics: sortDiagnostics(diagnostics), types };
}

/**
 * The dims a root module sees: the standard ones, then those declared in it or in a module it
 * imports (directly or not), in load order. A dim declared by another file checked in the same
 * run is not visible: checking files together gives what checking each alone gives.
 */
function visibleDims(root: Module, program: Program): string[] {
  const reach = new Set<Module>();
  const walk = (m: Module): void => {
    if (reach.has(m)) return;
    reach.add(m);
    m.imports.forEach(walk);
  };
  walk(root);
  const declared = new Set([...reach].flatMap((m) => (m.ast?.items ?? []).filter((i) => i.kind === 'Dim').map((i) => (i as { name: { name: string } }).name.name)));
  return [...STANDARD_DIMS, ...program.dims.filter((d) => !STANDARD_DIMS.includes(d) && declared.has(d))];
}

/** Run passes, verifying the graph before and after each. */
export function optimize(name: string, file: string, raw: IrGraph, passes: readonly Pass[]): CompiledPipeline {
  check(raw, 'build');
  const after = new Map<string, IrGraph>();
  let g = raw;
  for (const p of passes) {
    g = p.run(g);
    check(g, p.name);
    after.set(p.name, g);
  }
  return { name, file, raw, ir: g, after };
}

function check(g: IrGraph, stage: string): void {
  const errs = verifyIr(g);
  if (errs.length > 0) throw new InternalError(`IR verification failed after ${stage} in \`${g.meta.pipeline}\`: ${errs.slice(0, 3).join('; ')}`);
}
