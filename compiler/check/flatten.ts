/** `extends`: resolve a pipeline's parent chain and merge blocks by binding name. */
import type { Binding, Expr, Ident, Minimize, PipelineDecl } from '../../grammar/ast.js';
import type { Module } from '../bind/modules.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean, listChoices } from '../suggest.js';
import { formatType } from '../types.js';
import { BLOCKS, standardInput } from './inputs.js';

/** A binding of a flattened pipeline, with the module whose names its expression uses. */
export interface FlatBinding {
  readonly name: Ident;
  readonly stage: string;
  readonly decl: Binding;
  readonly module: Module;
  /** Declared by this pipeline (not inherited) and not replacing a parent binding. */
  readonly isNewInChild: boolean;
  /** For bare expressions of the sample stage. */
  readonly value: Expr;
}

/** A param or state declaration after merging. */
export interface FlatDecl {
  readonly decl: Binding;
  readonly module: Module;
  readonly own: boolean;
}

/** A pipeline with its parents merged in. */
export interface FlatPipeline {
  readonly decl: PipelineDecl;
  readonly module: Module;
  readonly parentName: string | null;
  readonly params: Map<string, FlatDecl>;
  /** Declared non-standard inputs (`inputs { name: f32[B,G] "doc" }`), inherited and overridable by name. */
  readonly inputs: Map<string, FlatDecl>;
  readonly state: Map<string, FlatDecl>;
  readonly bindings: Map<string, FlatBinding>;
  readonly updates: Map<string, FlatDecl>;
  readonly minimize: { readonly node: Minimize; readonly module: Module } | null;
  readonly hasLoss: boolean;
}

/** Flattens pipelines, memoized; reports extends problems once. */
export class Flattener {
  private readonly memo = new Map<PipelineDecl, FlatPipeline | null>();

  constructor(private readonly diagnostics: Diagnostic[]) {}

  flatten(decl: PipelineDecl, module: Module, visiting: PipelineDecl[] = []): FlatPipeline | null {
    if (this.memo.has(decl)) return this.memo.get(decl)!;
    let parent: FlatPipeline | null = null;
    if (decl.parent !== null) {
      const found = module.scope.get(decl.parent.name);
      if (found === undefined || found.decl.kind !== 'Pipeline') {
        this.reportBadParent(decl.parent, module, found?.decl.kind);
        this.memo.set(decl, null);
        return null;
      }
      const pdecl = found.decl;
      if (pdecl === decl || visiting.includes(pdecl)) {
        const chain = [...visiting, decl, pdecl].map((p) => p.name.name).join(' -> ');
        this.diagnostics.push(diag('RLP2005', decl.parent.span, { name: decl.name.name, chain }));
        this.memo.set(decl, null);
        return null;
      }
      parent = this.flatten(pdecl, found.module, [...visiting, decl]);
      if (parent === null) {
        this.memo.set(decl, null);
        return null;
      }
    }
    const flat = this.merge(decl, module, parent);
    this.memo.set(decl, flat);
    return flat;
  }

  private reportBadParent(parent: Ident, module: Module, kind: string | undefined): void {
    if (kind !== undefined) {
      this.diagnostics.push(diag('RLP2013', parent.span, { name: parent.name, what: kind === 'Fn' ? 'function' : 'dimension' }));
      return;
    }
    const pipelines = [...module.scope.entries()].filter(([, d]) => d.decl.kind === 'Pipeline').map(([n]) => n);
    this.diagnostics.push(diag('RLP2004', parent.span, { name: parent.name }, {
      help: didYouMean(parent.name, pipelines) ?? (pipelines.length > 0 ? `pipelines in scope: ${listChoices(pipelines.sort())}` : 'import the file that declares it, e.g. `import "std/grpo"`'),
    }));
  }

  private merge(decl: PipelineDecl, module: Module, parent: FlatPipeline | null): FlatPipeline {
    const flat: FlatPipeline = {
      decl,
      module,
      parentName: parent?.decl.name.name ?? null,
      params: new Map([...(parent?.params ?? [])].map(([k, v]) => [k, { ...v, own: false }])),
      inputs: new Map([...(parent?.inputs ?? [])].map(([k, v]) => [k, { ...v, own: false }])),
      state: new Map(parent?.state ?? []),
      bindings: new Map([...(parent?.bindings ?? [])].map(([k, v]) => [k, { ...v, isNewInChild: false }])),
      updates: new Map(parent?.updates ?? []),
      minimize: parent?.minimize ?? null,
      hasLoss: parent?.hasLoss ?? false,
    };
    const seenBlocks = new Map<string, Ident>();
    const ownNames = new Map<string, Ident>();
    let ownMinimize = false;
    for (const block of decl.blocks) {
      const name = block.name.name;
      if (!BLOCKS.includes(name)) {
        this.diagnostics.push(diag('RLP4001', block.name.span, { name }, { help: didYouMean(name, BLOCKS) ?? `a pipeline holds ${listChoices(BLOCKS)}` }));
        continue;
      }
      const prevBlock = seenBlocks.get(name);
      if (prevBlock !== undefined) {
        this.diagnostics.push(diag('RLP4011', block.name.span, { name, pipeline: decl.name.name }, { labels: [{ span: prevBlock.span, message: 'first here' }] }));
      }
      seenBlocks.set(name, block.name);
      if (name === 'loss') (flat as { hasLoss: boolean }).hasLoss = true;
      for (const m of block.members) {
        if (m.kind === 'Minimize') {
          if (name !== 'loss') this.diagnostics.push(diag('RLP4006', m.span, { block: name }));
          else if (ownMinimize) this.diagnostics.push(diag('RLP4005', m.span));
          else {
            ownMinimize = true;
            (flat as { minimize: FlatPipeline['minimize'] }).minimize = { node: m, module };
          }
          continue;
        }
        if (m.kind === 'ExprStmt') {
          this.exprStmt(flat, name, m.value, module, ownNames);
          continue;
        }
        if (name !== 'update' && !this.claim(ownNames, m.name)) continue;
        this.member(flat, name, m, module);
      }
    }
    if (flat.hasLoss && flat.minimize === null) this.diagnostics.push(diag('RLP4004', decl.name.span, { name: decl.name.name }));
    return flat;
  }

  private claim(ownNames: Map<string, Ident>, id: Ident): boolean {
    const prev = ownNames.get(id.name);
    if (prev !== undefined) {
      this.diagnostics.push(diag('RLP2003', id.span, { name: id.name }, { labels: [{ span: prev.span, message: 'first defined here' }] }));
      return false;
    }
    ownNames.set(id.name, id);
    return true;
  }

  private exprStmt(flat: FlatPipeline, stage: string, value: Expr, module: Module, ownNames: Map<string, Ident>): void {
    if (stage !== 'sample' || value.kind !== 'Call') {
      const hint = stage === 'sample' ? '' : '; bind it with `name = ...`';
      this.diagnostics.push(diag('RLP4007', value.span, { hint }));
      return;
    }
    const name: Ident = { name: value.callee.name, span: value.callee.span };
    if (!this.claim(ownNames, name)) return;
    const decl: Binding = { kind: 'Binding', span: value.span, name, type: null, value, docString: null, doc: '' };
    flat.bindings.set(name.name, { name, stage, decl, module, isNewInChild: false, value });
  }

  /** `inputs { name: f32[B,G] "doc" }`: typed, no value, not a standard input's name. */
  private declaredInput(flat: FlatPipeline, m: Binding, module: Module): void {
    const name = m.name.name;
    const std = standardInput(name);
    if (std !== undefined) {
      this.diagnostics.push(diag('RLP4031', m.name.span, { name, type: formatType(std.type) }, { help: 'read it without declaring it, or pick another name' }));
      return;
    }
    if (m.type === null) {
      this.diagnostics.push(diag('RLP4009', m.name.span, { what: 'input', name, example: 'f32[B,G]' }));
      return;
    }
    if (m.value !== null) {
      this.diagnostics.push(diag('RLP4030', m.value.span, { name }, { help: 'an input is fed with the batch; compute values in a stage instead' }));
      return;
    }
    flat.inputs.set(name, { decl: m, module, own: true });
  }

  private member(flat: FlatPipeline, block: string, m: Binding, module: Module): void {
    const name = m.name.name;
    if (block === 'inputs') {
      this.declaredInput(flat, m, module);
      return;
    }
    if (block === 'params' || block === 'state') {
      if (m.type === null) {
        const what = block === 'params' ? 'param' : 'state';
        this.diagnostics.push(diag('RLP4009', m.name.span, { what, name, example: block === 'params' ? 'float = 0.1' : 'f32 = 0' }));
        return;
      }
      if (block === 'state' && m.value === null) {
        this.diagnostics.push(diag('RLP4013', m.name.span, { name }));
        return;
      }
      const inherited = block === 'params' ? flat.params.get(name) : undefined;
      if (inherited !== undefined && !inherited.own && inherited.decl.type!.name.name !== m.type.name.name) {
        this.diagnostics.push(diag('RLP3020', m.type.span, { name, was: inherited.decl.type!.name.name, parent: flat.parentName ?? '', now: m.type.name.name }, {
          labels: [{ span: inherited.decl.type!.span, message: 'declared here' }],
        }));
        return;
      }
      (block === 'params' ? flat.params : flat.state).set(name, { decl: m, module, own: true });
      return;
    }
    if (m.value === null) {
      this.diagnostics.push(diag('RLP4008', m.span, { name }));
      return;
    }
    if (block === 'update') {
      flat.updates.set(name, { decl: m, module, own: true });
      return;
    }
    const prev = flat.bindings.get(name);
    if (prev !== undefined && prev.stage !== block) {
      this.diagnostics.push(diag('RLP2007', m.name.span, { name, was: prev.stage, parent: flat.parentName ?? '', now: block }, {
        labels: [{ span: prev.name.span, message: `bound in \`${prev.stage}\` here` }],
      }));
      return;
    }
    const isNew = flat.parentName !== null && prev === undefined;
    flat.bindings.set(name, { name: m.name, stage: block, decl: m, module, isNewInChild: isNew, value: m.value });
  }
}
