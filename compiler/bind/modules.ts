/** Loading a program: files, their imports (resolved, with cycles reported) and top-level scopes. */
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import type { DimDecl, FileNode, FnDecl, ImportDecl, PipelineDecl } from '../../grammar/ast.js';
import { parseFile } from '../../grammar/parse.js';
import { makeSource, type SourceFile } from '../../grammar/source.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { dslNames } from '../ops/index.js';
import { didYouMean } from '../suggest.js';
import type { CompilerHost } from './host.js';

export type TopDecl = PipelineDecl | FnDecl | DimDecl;

/** A declaration together with the module that declares it. */
export interface ScopedDecl {
  readonly decl: TopDecl;
  readonly module: Module;
}

/** One loaded file. `ast` is null when it has syntax errors. */
export interface Module {
  readonly path: string;
  readonly file: SourceFile;
  readonly ast: FileNode | null;
  /** Names visible at top level: own declarations and those of directly imported modules. */
  readonly scope: Map<string, ScopedDecl>;
  readonly imports: Module[];
}

/** All loaded modules, the roots asked for, and the problems found while loading. */
export interface Program {
  readonly modules: ReadonlyMap<string, Module>;
  readonly roots: readonly Module[];
  readonly diagnostics: Diagnostic[];
  /** Declared dims in load order (after the standard ones). */
  readonly dims: string[];
}

/** Load root files and everything they import. A root that cannot be read is reported as RLP2001 by the caller. */
export function loadProgram(rootPaths: readonly string[], host: CompilerHost): Program {
  const program: Program = { modules: new Map(), roots: [], diagnostics: [], dims: [] };
  const loader = new Loader(program, host);
  for (const p of rootPaths) {
    const m = loader.load(resolve(p), []);
    if (m !== null) (program.roots as Module[]).push(m);
  }
  for (const m of program.modules.values()) buildScope(m, program);
  return program;
}

class Loader {
  constructor(
    private readonly program: Program,
    private readonly host: CompilerHost,
  ) {}

  load(abs: string, stack: string[]): Module | null {
    const existing = this.program.modules.get(abs);
    if (existing !== undefined) return existing;
    const text = this.host.read(abs);
    if (text === undefined) return null;
    const file = makeSource(this.host.display(abs), text);
    const parsed = this.host.parse?.(file) ?? parseFile(file);
    for (const p of parsed.problems) this.program.diagnostics.push(diag(p.code, p.span, p.args));
    const module: Module = { path: abs, file, ast: parsed.ast, scope: new Map(), imports: [] };
    (this.program.modules as Map<string, Module>).set(abs, module);
    if (parsed.ast === null) return module;
    const inner = [...stack, abs];
    for (const item of parsed.ast.items) {
      if (item.kind === 'Import') this.importOne(module, item, inner);
      if (item.kind === 'Dim' && !this.program.dims.includes(item.name.name)) this.program.dims.push(item.name.name);
    }
    return module;
  }

  private importOne(module: Module, imp: ImportDecl, stack: string[]): void {
    const target = this.resolveImport(module.path, imp.path);
    const refused = this.refusal(imp.path, target);
    if (refused !== null) {
      this.program.diagnostics.push(diag('RLP2020', imp.pathSpan, { path: imp.path, why: refused }));
      return;
    }
    if (stack.includes(target)) {
      const chain = [...stack.slice(stack.indexOf(target)), target].map((p) => this.host.display(p)).join(' -> ');
      this.program.diagnostics.push(diag('RLP2002', imp.pathSpan, { chain }));
      return;
    }
    const m = this.load(target, stack);
    if (m === null) {
      this.program.diagnostics.push(diag('RLP2001', imp.pathSpan, { path: imp.path }, { help: this.missingHelp(imp.path) }));
      return;
    }
    if (!module.imports.includes(m)) module.imports.push(m);
  }

  private resolveImport(from: string, spec: string): string {
    return resolveImportPath(this.host, from, spec);
  }

  /**
   * Why an import may not be read, or null: only `.rlp` files are imported (nothing else is read,
   * so no other file's text can reach a diagnostic), and `std/...` stays inside the standard library.
   */
  private refusal(spec: string, target: string): string | null {
    if (extname(target) !== '.rlp') return 'only .rlp files can be imported';
    if (spec.startsWith('std/')) {
      const r = relative(resolve(this.host.stdlibDir), target);
      if (r === '' || r.startsWith('..') || isAbsolute(r)) return '`std/` names a module inside the standard library; this path leads outside the standard library';
    }
    return null;
  }

  private missingHelp(spec: string): string | null {
    const std = this.host.stdlibModules().map((m) => `std/${m}`);
    return didYouMean(spec, std) ?? (spec.startsWith('std/') ? `the standard library has ${std.map((s) => '`' + s + '`').join(', ')}` : null);
  }
}

/** Where an import leads: `std/...` into the stdlib folder, others relative to the importing file. */
export function resolveImportPath(host: CompilerHost, from: string, spec: string): string {
  const withExt = extname(spec) === '' ? spec + '.rlp' : spec;
  if (spec.startsWith('std/')) return join(host.stdlibDir, withExt.slice(4));
  return isAbsolute(withExt) ? withExt : resolve(dirname(from), withExt);
}

function declsOf(m: Module): TopDecl[] {
  return (m.ast?.items ?? []).filter((i): i is TopDecl => i.kind !== 'Import');
}

/** Fill a module's scope: own declarations, then imported ones; report duplicates. */
function buildScope(m: Module, program: Program): void {
  const builtins = new Set(dslNames());
  for (const d of declsOf(m)) {
    const prev = m.scope.get(d.name.name);
    if (prev !== undefined) {
      program.diagnostics.push(duplicate(d, prev, ''));
      continue;
    }
    if (d.kind === 'Fn' && builtins.has(d.name.name)) {
      program.diagnostics.push(diag('RLP2003', d.name.span, { name: d.name.name, where: ' (it is a built-in op)' }));
      continue;
    }
    m.scope.set(d.name.name, { decl: d, module: m });
  }
  for (const imp of m.imports) {
    for (const d of declsOf(imp)) {
      const prev = m.scope.get(d.name.name);
      if (prev === undefined) m.scope.set(d.name.name, { decl: d, module: imp });
      else if (prev.decl !== d && prev.module === m) {
        program.diagnostics.push(duplicate(prev.decl, { decl: d, module: imp }, ` (also imported from \`${imp.file.path}\`)`));
      }
    }
  }
}

function duplicate(d: TopDecl, prev: ScopedDecl, where: string): Diagnostic {
  return diag('RLP2003', d.name.span, { name: d.name.name, where }, {
    labels: [{ span: prev.decl.name.span, message: 'first defined here' }],
  });
}
