/** One checked program with the side tables editors query: modules by path, occurrences, types. */
import type { PipelineDecl } from '../../grammar/ast.js';
import type { SourceFile } from '../../grammar/source.js';
import type { CompilerHost } from '../bind/host.js';
import { resolveImportPath, type Module, type Program } from '../bind/modules.js';
import { Flattener, type FlatPipeline } from '../check/flatten.js';
import { compileFiles, type CompileOptions, type CompileResult } from '../compile.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { STANDARD_DIMS, type Type } from '../types.js';
import { indexModule, type IndexContext } from './occurrences.js';
import type { Occurrence } from './symbols.js';

/** A checked program and lazily built indexes over it. */
export interface Analysis {
  readonly host: CompilerHost;
  readonly result: CompileResult;
  readonly program: Program;
  readonly diagnostics: readonly Diagnostic[];
  /** Standard dims, then the declared ones. */
  readonly dims: readonly string[];
  /** The module loaded from this absolute path. */
  module(absPath: string): Module | undefined;
  /** The module a span's file belongs to. */
  moduleOfFile(file: SourceFile): Module | undefined;
  /** Every name written in a module, resolved, in source order. */
  occurrences(module: Module): readonly Occurrence[];
  /** A pipeline with its parents merged in (null when its `extends` chain is broken). */
  flat(decl: PipelineDecl, module: Module): FlatPipeline | null;
  /** The types of a pipeline's bindings and state that checked. */
  types(decl: PipelineDecl): ReadonlyMap<string, Type> | undefined;
}

/** Check `roots` (absolute paths) and everything they import; the IR passes are skipped. */
export function analyze(roots: readonly string[], host: CompilerHost, opts: CompileOptions = {}): Analysis {
  const result = compileFiles(roots, { ...opts, host, passes: [] });
  const program = result.program;
  // By display path, not object: a cached parse's spans point at an equal, earlier SourceFile.
  const byFile = new Map<string, Module>();
  for (const m of program.modules.values()) byFile.set(m.file.path, m);
  const flattener = new Flattener([]);
  const index = new Map<Module, readonly Occurrence[]>();
  const ctx: IndexContext = {
    flat: (decl, module) => flattener.flatten(decl, module),
    resolveImport: (from, spec) => {
      const path = resolveImportPath(host, from.path, spec);
      return { path, module: program.modules.get(path) ?? null };
    },
  };
  return {
    host,
    result,
    program,
    diagnostics: result.diagnostics,
    dims: [...STANDARD_DIMS, ...program.dims.filter((d) => !STANDARD_DIMS.includes(d))],
    module: (p) => program.modules.get(p),
    moduleOfFile: (f) => byFile.get(f.path),
    occurrences(m) {
      let occ = index.get(m);
      if (occ === undefined) {
        occ = indexModule(m, ctx);
        index.set(m, occ);
      }
      return occ;
    },
    flat: ctx.flat,
    types: (decl) => result.types.get(decl),
  };
}

/** The occurrence at `offset`; a cursor just after a name (at its end) finds it too. */
export function occurrenceAt(a: Analysis, absPath: string, offset: number): Occurrence | null {
  const m = a.module(absPath);
  if (m === undefined) return null;
  let touching: Occurrence | null = null;
  for (const o of a.occurrences(m)) {
    if (o.span.start <= offset && offset < o.span.end) return o;
    if (o.span.end === offset) touching = o;
  }
  return touching;
}
