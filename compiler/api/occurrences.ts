/** Every name written in a module, resolved to its symbol (the index behind the position lookups). */
import type { Arg, Binding, Block, Expr, FnDecl, Ident, PipelineDecl, TypeExpr } from '../../grammar/ast.js';
import { spanText, type Span } from '../../grammar/source.js';
import type { Module } from '../bind/modules.js';
import type { FlatPipeline } from '../check/flatten.js';
import { BUILTIN_REWARDS, standardInput } from '../check/inputs.js';
import { opsByDsl } from '../ops/index.js';
import { STANDARD_DIMS } from '../types.js';
import type { MemberSymbol, Occurrence, RlpSymbol } from './symbols.js';

/** What the indexer needs from an analysis: a flattened pipeline, and where imports lead. */
export interface IndexContext {
  flat(decl: PipelineDecl, module: Module): FlatPipeline | null;
  resolveImport(from: Module, spec: string): { path: string; module: Module | null };
}

type Resolve = (name: string, at: Span) => RlpSymbol | null;

/** Index one module: its declarations and every resolved use, in source order. */
export function indexModule(module: Module, ctx: IndexContext): Occurrence[] {
  const out: Occurrence[] = [];
  const add = (span: Span, symbol: RlpSymbol | null, isDecl = false): void => {
    if (symbol !== null) out.push({ span, symbol, isDecl });
  };
  const w = new Walker(module, ctx, add);
  for (const item of module.ast?.items ?? []) {
    if (item.kind === 'Import') add(item.pathSpan, { kind: 'module', ...ctx.resolveImport(module, item.path) });
    else if (item.kind === 'Dim') add(item.name.span, { kind: 'dim', name: item.name.name, decl: item, module }, true);
    else if (item.kind === 'Fn') w.fn(item);
    else w.pipeline(item);
  }
  return out.sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end);
}

class Walker {
  constructor(
    private readonly module: Module,
    private readonly ctx: IndexContext,
    private readonly add: (span: Span, symbol: RlpSymbol | null, isDecl?: boolean) => void,
  ) {}

  fn(fd: FnDecl): void {
    this.add(fd.name.span, { kind: 'fn', decl: fd, module: this.module }, true);
    const locals = new Map<string, RlpSymbol>();
    const local = (id: Ident, type: TypeExpr | null): void => {
      const sym: RlpSymbol = { kind: 'local', name: id.name, fn: fd, module: this.module, declSpan: id.span, typeText: type === null ? null : spanText(type.span) };
      locals.set(id.name, sym);
      this.add(id.span, sym, true);
    };
    for (const p of fd.params) {
      local(p.name, p.type);
      if (p.type !== null) this.type(p.type);
    }
    if (fd.returnType !== null) this.type(fd.returnType);
    const resolve: Resolve = (name) => locals.get(name) ?? null;
    for (const m of fd.body) {
      if (m.kind === 'Binding') {
        if (m.value !== null) this.expr(m.value, resolve);
        if (m.type !== null) this.type(m.type);
        local(m.name, m.type);
      } else this.expr(m.value, resolve);
    }
  }

  pipeline(pd: PipelineDecl): void {
    this.add(pd.name.span, { kind: 'pipeline', decl: pd, module: this.module }, true);
    if (pd.parent !== null) {
      const p = this.module.scope.get(pd.parent.name);
      if (p !== undefined && p.decl.kind === 'Pipeline') this.add(pd.parent.span, { kind: 'pipeline', decl: p.decl, module: p.module });
    }
    const flat = this.ctx.flat(pd, this.module);
    for (const block of pd.blocks) this.block(pd, block, flat);
  }

  private block(pd: PipelineDecl, block: Block, flat: FlatPipeline | null): void {
    this.add(block.name.span, { kind: 'block', name: block.name.name });
    const stage = block.name.name;
    const resolve: Resolve = (name) => this.member(pd, flat, name) ?? inputOrReward(name, stage);
    for (const m of block.members) {
      if (m.kind !== 'Binding') {
        this.expr(m.value, resolve);
        continue;
      }
      if (m.type !== null) this.type(m.type);
      if (m.value !== null) this.expr(m.value, resolve);
      const sym = this.member(pd, flat, m.name.name, stage === 'update' ? undefined : m);
      this.add(m.name.span, sym, stage !== 'update');
    }
  }

  /** The member `name` of pipeline `pd`; `own` is the declaration when this occurrence declares it. */
  private member(pd: PipelineDecl, flat: FlatPipeline | null, name: string, own?: Binding): MemberSymbol | null {
    if (flat === null) return null;
    const b = flat.bindings.get(name);
    const found = b !== undefined ? { decl: b.decl, module: b.module, block: b.stage } : flatDecl(flat, name);
    if (found === null) return null;
    const owner = this.owner(pd, name);
    const decl = own ?? found.decl;
    return { kind: 'member', name, block: found.block, decl, module: own !== undefined ? this.module : found.module, pipeline: pd, owner: owner.decl, ownerModule: owner.module };
  }

  /** The topmost pipeline of pd's `extends` chain that declares `name`. */
  private owner(pd: PipelineDecl, name: string): { decl: PipelineDecl; module: Module } {
    let cur: { decl: PipelineDecl; module: Module } = { decl: pd, module: this.module };
    let best = cur;
    const seen = new Set<PipelineDecl>();
    while (!seen.has(cur.decl)) {
      seen.add(cur.decl);
      if (declares(cur.decl, name)) best = cur;
      const parent = cur.decl.parent === null ? undefined : cur.module.scope.get(cur.decl.parent.name);
      if (parent === undefined || parent.decl.kind !== 'Pipeline') break;
      cur = { decl: parent.decl, module: parent.module };
    }
    return best;
  }

  private type(t: TypeExpr): void {
    this.add(t.name.span, { kind: 'type', name: t.name.name });
    for (const d of t.dims ?? []) this.dim(d);
  }

  private dim(d: Ident): void {
    const found = this.module.scope.get(d.name);
    if (found !== undefined && found.decl.kind === 'Dim') this.add(d.span, { kind: 'dim', name: d.name, decl: found.decl, module: found.module });
    else if (STANDARD_DIMS.includes(d.name)) this.add(d.span, { kind: 'dim', name: d.name, decl: null, module: null });
  }

  private expr(e: Expr, resolve: Resolve): void {
    switch (e.kind) {
      case 'Name':
        this.add(e.span, resolve(e.name, e.span));
        return;
      case 'Unary':
        this.expr(e.operand, resolve);
        return;
      case 'Binary':
        this.expr(e.left, resolve);
        this.expr(e.right, resolve);
        return;
      case 'Index':
        this.expr(e.target, resolve);
        this.dim(e.dim);
        this.expr(e.index, resolve);
        return;
      case 'Call':
        this.call(e.callee, e.args, resolve);
        return;
      default:
        return;
    }
  }

  private call(callee: Ident, args: readonly Arg[], resolve: Resolve): void {
    const isOp = opsByDsl(callee.name).length > 0;
    const found = this.module.scope.get(callee.name);
    const fn = !isOp && found !== undefined && found.decl.kind === 'Fn' ? { decl: found.decl, module: found.module } : null;
    if (isOp) this.add(callee.span, { kind: 'op', name: callee.name });
    else if (fn !== null) this.add(callee.span, { kind: 'fn', ...fn });
    for (const a of args) {
      if (a.kind === 'Over') for (const d of a.dims) this.dim(d);
      else {
        if (a.kind === 'Keyword') this.add(a.name.span, keywordSymbol(a.name, isOp ? callee.name : null, fn));
        this.expr(a.value, resolve);
      }
    }
  }
}

function keywordSymbol(name: Ident, op: string | null, fn: { decl: FnDecl; module: Module } | null): RlpSymbol | null {
  if (op !== null) return { kind: 'op-arg', op, name: name.name };
  const p = fn?.decl.params.find((x) => x.name.name === name.name);
  if (fn === null || p === undefined) return null;
  return { kind: 'local', name: name.name, fn: fn.decl, module: fn.module, declSpan: p.name.span, typeText: p.type === null ? null : spanText(p.type.span) };
}

function flatDecl(flat: FlatPipeline, name: string): { decl: Binding; module: Module; block: string } | null {
  const p = flat.params.get(name);
  if (p !== undefined) return { decl: p.decl, module: p.module, block: 'params' };
  const s = flat.state.get(name);
  if (s !== undefined) return { decl: s.decl, module: s.module, block: 'state' };
  return null;
}

function inputOrReward(name: string, stage: string): RlpSymbol | null {
  const input = standardInput(name);
  if (input !== undefined) return { kind: 'input', input };
  const reward = stage === 'reward' ? BUILTIN_REWARDS.find((r) => r.name === name) : undefined;
  return reward === undefined ? null : { kind: 'reward', name, doc: reward.doc };
}

/** Whether a pipeline's own blocks (not `update`) declare `name`. */
export function declares(pd: PipelineDecl, name: string): boolean {
  return pd.blocks.some(
    (b) =>
      b.name.name !== 'update' &&
      b.members.some((m) => (m.kind === 'Binding' ? m.name.name === name : m.kind === 'ExprStmt' && m.value.kind === 'Call' && m.value.callee.name === name)),
  );
}
