/** What a name in a source file refers to: the symbols editors navigate between. */
import type { Binding, DimDecl, FnDecl, PipelineDecl } from '../../grammar/ast.js';
import type { Span } from '../../grammar/source.js';
import type { Module } from '../bind/modules.js';
import type { StandardInput } from '../check/inputs.js';

/** A binding, param or state variable of a pipeline, with the pipeline that first declares it. */
export interface MemberSymbol {
  readonly kind: 'member';
  readonly name: string;
  /** `params`, `state` or a stage name. */
  readonly block: string;
  /** The declaration this name resolves to in `pipeline` (an override in a child wins). */
  readonly decl: Binding;
  readonly module: Module;
  /** The pipeline the occurrence is in. */
  readonly pipeline: PipelineDecl;
  /** The topmost pipeline of the `extends` chain that declares the name: its identity. */
  readonly owner: PipelineDecl;
  readonly ownerModule: Module;
}

/** A parameter or local of a function. */
export interface LocalSymbol {
  readonly kind: 'local';
  readonly name: string;
  readonly fn: FnDecl;
  readonly module: Module;
  readonly declSpan: Span;
  /** The annotated type of a parameter or local, as written (or null). */
  readonly typeText: string | null;
}

/** Everything a name can refer to. */
export type RlpSymbol =
  | MemberSymbol
  | LocalSymbol
  | { readonly kind: 'input'; readonly input: StandardInput }
  | { readonly kind: 'reward'; readonly name: string; readonly doc: string }
  | { readonly kind: 'op'; readonly name: string }
  | { readonly kind: 'op-arg'; readonly op: string; readonly name: string }
  | { readonly kind: 'fn'; readonly decl: FnDecl; readonly module: Module }
  | { readonly kind: 'pipeline'; readonly decl: PipelineDecl; readonly module: Module }
  | { readonly kind: 'dim'; readonly name: string; readonly decl: DimDecl | null; readonly module: Module | null }
  | { readonly kind: 'module'; readonly path: string; readonly module: Module | null }
  | { readonly kind: 'block'; readonly name: string }
  | { readonly kind: 'type'; readonly name: string };

/** One place a symbol is written: its declaration or a use. */
export interface Occurrence {
  readonly span: Span;
  readonly symbol: RlpSymbol;
  readonly isDecl: boolean;
}

/** A key equal for every occurrence of the same symbol, across files and `extends` children. */
export function symbolKey(s: RlpSymbol): string {
  switch (s.kind) {
    case 'member':
      return `member:${s.ownerModule.path}#${s.owner.name.name}.${s.name}`;
    case 'local':
      return `local:${s.module.path}#${s.fn.name.name}.${s.name}`;
    case 'input':
      return `input:${s.input.name}`;
    case 'reward':
    case 'op':
    case 'block':
    case 'type':
      return `${s.kind}:${s.name}`;
    case 'op-arg':
      return `op-arg:${s.op}.${s.name}`;
    case 'fn':
    case 'pipeline':
      return `${s.kind}:${s.module.path}#${s.decl.name.name}`;
    case 'dim':
      return `dim:${s.name}`;
    case 'module':
      return `module:${s.path}`;
  }
}

/** The span of a symbol's declaration in source, when it has one. */
export function declarationSpan(s: RlpSymbol): Span | null {
  switch (s.kind) {
    case 'member':
      return s.decl.name.span;
    case 'local':
      return s.declSpan;
    case 'fn':
    case 'pipeline':
      return s.decl.name.span;
    case 'dim':
      return s.decl?.name.span ?? null;
    case 'module':
      return s.module === null ? null : { file: s.module.file, start: 0, end: 0 };
    default:
      return null;
  }
}

/** Whether a rename of this symbol is a source edit (built-ins cannot be renamed). */
export function isRenamable(s: RlpSymbol): boolean {
  return s.kind === 'member' || s.kind === 'local' || s.kind === 'fn' || s.kind === 'pipeline' || (s.kind === 'dim' && s.decl !== null);
}
