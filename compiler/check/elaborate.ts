/**
 * Elaboration: type-check expressions (dtypes, named dims, masks) while building the IR.
 * Checking and IR construction are one walk: every well-typed expression becomes a hash-consed
 * node, every ill-typed one a diagnostic and a null, which stops errors from cascading.
 */
import type { CallExpr, Expr, FnDecl, Member } from '../../grammar/ast.js';
import type { Span } from '../../grammar/source.js';
import type { Module } from '../bind/modules.js';
import { diag, type Diagnostic, type Label } from '../diagnostics/diagnostic.js';
import { IrBuilder } from '../ir/graph.js';
import type { AttrValue, InputSpec, OpDef } from '../ops/define.js';
import { BINARY_OPS, dslNames, opByName, opsByDsl } from '../ops/index.js';
import { didYouMean, listChoices } from '../suggest.js';
import { formatType, sortDims, STRING, tensor, type TensorType, type Type } from '../types.js';
import { matchArgs } from './args.js';
import { compareStrings } from './choice.js';
import { constEval, resolveTensorType } from './resolve-type.js';

/** Where an expression is elaborated. */
export interface Ctx {
  readonly module: Module;
  /** The stage of the enclosing binding, or null inside a function body. */
  readonly stage: string | null;
  /** Locals of the enclosing function, or null in a pipeline. */
  readonly locals: ReadonlyMap<string, number> | null;
  /** Call sites of the functions being expanded (innermost first). */
  readonly callSpans: readonly Span[];
}

/** How names outside functions are resolved: supplied by the pipeline checker. */
export interface NameResolver {
  resolve(name: string, span: Span, ctx: Ctx): number | null | undefined;
  visibleNames(ctx: Ctx): string[];
  /** A hint for an unknown name when no name is near (e.g. a reward function needing --rewards). */
  unknownHint?(name: string, ctx: Ctx): string | null;
}

/**
 * The most expressions one pipeline may elaborate, counting each function body once per distinct
 * argument list (calls are inlined through the hash-consed IR, so repeated calls cost nothing).
 * A program past it (an expansion bomb such as `e(x) = d(2*x) + d(3*x)` nested 40 deep) stops
 * with RLP4020 instead of running for hours.
 */
export const MAX_ELABORATION_WORK = 100_000;

/**
 * The most function calls one expansion may nest (`f0(x) = x`, `f1(x) = f0(x)`, ... `f5000`):
 * every value records the call sites it was expanded from, and the expansion recurses once per
 * level, so the depth is bounded (RLP4021) rather than the stack.
 */
export const MAX_CALL_DEPTH = 100;

/** The most unknown names of one pipeline that get a did-you-mean (each costs a pass over every visible name). */
export const MAX_SUGGESTIONS = 100;

let totalWork = 0;

/** Expressions elaborated so far in this process, over every pipeline: tests bound compile work by this count. */
export function elaborationWork(): number {
  return totalWork;
}

/** Expression elaborator for one pipeline. */
export class Elaborator {
  readonly builder = new IrBuilder();
  private readonly fnStack: FnDecl[] = [];
  /** Inlined calls by function and argument node ids: a call is expanded once per distinct argument list. */
  private readonly inlined = new Map<FnDecl, Map<string, number | null>>();
  private work = 0;
  private suggestions = 0;
  private overBudget = false;
  resolver: NameResolver | null = null;

  constructor(
    readonly dimOrder: readonly string[],
    readonly out: Diagnostic[],
  ) {}

  /** Elaborate an expression to a node id, or null after reporting. */
  expr(e: Expr, ctx: Ctx): number | null {
    if (this.overBudget) return null;
    totalWork++;
    if (++this.work > MAX_ELABORATION_WORK) {
      this.overBudget = true;
      return this.fail('RLP4020', ctx.callSpans[ctx.callSpans.length - 1] ?? e.span, { limit: MAX_ELABORATION_WORK });
    }
    switch (e.kind) {
      case 'Number':
        return this.constant(e.value, e.isInt ? 'i32' : 'f32', e.span, ctx);
      case 'Bool':
        return this.constant(e.value, 'bool', e.span, ctx);
      case 'String':
        return this.node('const', [], { value: e.value }, STRING, e.span, ctx);
      case 'Name':
        return this.name(e.name, e.span, ctx);
      case 'Unary': {
        const x = this.expr(e.operand, ctx);
        if (x === null || e.op === '+') return x;
        const b = e.op === 'not' ? this.boolConst(x) : null;
        if (b !== null) return this.constant(!b, 'bool', e.span, ctx);
        return this.apply(opByName(e.op === '-' ? 'neg' : 'not')!, [x], [e.operand.span], {}, e.span, ctx, `\`${e.op}\``);
      }
      case 'Binary': {
        const l = this.expr(e.left, ctx);
        const r = this.expr(e.right, ctx);
        if (l === null || r === null) return null;
        if ((e.op === '==' || e.op === '!=') && (this.builder.typeOf(l).kind === 'string' || this.builder.typeOf(r).kind === 'string')) {
          const v = compareStrings(e.op, this.builder.get(l), this.builder.get(r), [e.left.span, e.right.span], e.span, this.out);
          return v === null ? null : this.constant(v, 'bool', e.span, ctx);
        }
        const [bl, br] = [this.boolConst(l), this.boolConst(r)];
        if ((e.op === 'and' || e.op === 'or') && bl !== null && br !== null) return this.constant(e.op === 'and' ? bl && br : bl || br, 'bool', e.span, ctx);
        return this.apply(BINARY_OPS[e.op]!, [l, r], [e.left.span, e.right.span], {}, e.span, ctx, `\`${e.op}\``);
      }
      case 'Call':
        return this.call(e, ctx);
      case 'Index':
        return this.index(e, ctx);
    }
  }

  /** The value of a scalar bool constant node (folded choice comparisons, `true`), or null. */
  private boolConst(id: number): boolean | null {
    const n = this.builder.get(id);
    return n.op === 'const' && n.type.kind === 'tensor' && n.type.dtype === 'bool' && n.type.dims.length === 0 ? n.attrs['value'] === true : null;
  }

  /** A literal constant node. */
  constant(value: number | boolean, dtype: 'f32' | 'i32' | 'bool', at: Span, ctx: Ctx): number {
    return this.node('const', [], { value }, tensor(dtype), at, ctx);
  }

  /** Add a node whose type is already known (sources). */
  node(op: string, inputs: number[], attrs: Record<string, AttrValue>, type: Type, at: Span, ctx: Ctx): number {
    const def = opByName(op)!;
    return this.builder.add(op, inputs, attrs, type, [at, ...ctx.callSpans], def.traits.includes('effect'));
  }

  private name(name: string, at: Span, ctx: Ctx): number | null {
    if (ctx.locals !== null) {
      const v = ctx.locals.get(name);
      if (v !== undefined) return v;
      const help = didYouMean(name, [...ctx.locals.keys()]) ?? 'a function sees only its parameters and locals; pass the value as an argument';
      this.out.push(diag('RLP2008', at, { name }, { help }));
      return null;
    }
    const r = this.resolver!.resolve(name, at, ctx);
    if (r !== undefined) return r;
    // Each suggestion compares the name with every visible name: past MAX_SUGGESTIONS unknown
    // names (a generated program), the rest are reported without one, so checking stays linear.
    const near = ++this.suggestions <= MAX_SUGGESTIONS ? didYouMean(name, this.resolver!.visibleNames(ctx)) : null;
    this.out.push(diag('RLP2008', at, { name }, { help: near ?? this.resolver!.unknownHint?.(name, ctx) ?? null }));
    return null;
  }

  /** Apply an op to elaborated inputs: check element kinds, run its type rule, add the node. */
  apply(op: OpDef, inputs: number[], spans: readonly Span[], attrs: Record<string, AttrValue>, at: Span, ctx: Ctx, shown: string, specs: readonly InputSpec[] = op.inputs): number | null {
    const types = inputs.map((i) => this.builder.typeOf(i));
    for (let i = 0; i < inputs.length; i++) {
      const spec = specs[i] ?? { name: 'where', kind: 'number' as const };
      if (!this.checkKind(types[i]!, spec, spans[i] ?? at, op, shown)) return null;
    }
    let failed = false;
    const t = op.infer(types, {
      attrs,
      dimOrder: this.dimOrder,
      error: (code, args, where) => {
        failed = true;
        const primary = where?.operand !== undefined ? (spans[where.operand] ?? at) : at;
        const labels: Label[] = code === 'RLP3001' ? this.typeLabels(inputs, spans, primary) : (where?.labels ?? []);
        const spanLabel = where?.operand !== undefined ? `this is \`${formatType(types[where.operand]!)}\`` : undefined;
        this.out.push(diag(code, primary, args, { labels, help: where?.help ?? null, ...(spanLabel !== undefined ? { spanLabel } : {}) }));
        return null;
      },
    });
    if (t === null || failed) return null;
    return this.builder.add(op.name, inputs, attrs, t, [at, ...ctx.callSpans], op.traits.includes('effect'));
  }

  private typeLabels(inputs: number[], spans: readonly Span[], primary: Span): Label[] {
    return inputs.flatMap((id, i) => {
      const s = spans[i];
      if (s === undefined || (s.start === primary.start && s.end === primary.end)) return [];
      return [{ span: s, message: `this is \`${formatType(this.builder.typeOf(id))}\`` }];
    });
  }

  private checkKind(t: Type, spec: InputSpec, at: Span, op: OpDef, shown: string): boolean {
    const what = op.dsl === null && shown.startsWith('`') && !/^`[a-z_]+`$/.test(shown) ? `the operands of ${shown}` : `argument \`${spec.name}\` of ${shown}`;
    const fail = (want: string): boolean => {
      const code = spec.kind === 'bool' ? 'RLP3005' : 'RLP3015';
      const args: Record<string, string> = code === 'RLP3005' ? { what, want, found: formatType(t) } : { name: spec.name, callee: shown.replace(/`/g, ''), want, found: formatType(t) };
      this.out.push(diag(code, at, args));
      return false;
    };
    if (spec.kind === 'string') return t.kind === 'string' || fail('a string');
    if (t.kind !== 'tensor') return fail(spec.kind === 'bool' ? '`bool`' : 'a number tensor');
    switch (spec.kind) {
      case 'bool':
        return t.dtype === 'bool' || fail('`bool`');
      case 'int-scalar':
        return (t.dims.length === 0 && t.dtype === 'i32') || fail('an `int` scalar');
      case 'number-scalar':
        return (t.dims.length === 0 && t.dtype !== 'bool') || fail('a number scalar');
      default:
        return true;
    }
  }

  private call(e: CallExpr, ctx: Ctx): number | null {
    const name = e.callee.name;
    const cands = opsByDsl(name);
    if (cands.length > 0) return this.callOp(cands, e, ctx);
    const found = ctx.module.scope.get(name);
    if (found !== undefined && found.decl.kind === 'Fn') return this.callFn(found.decl, found.module, e, ctx);
    const fns = (): string[] => [...ctx.module.scope.entries()].filter(([, d]) => d.decl.kind === 'Fn').map(([n]) => n);
    const help = found !== undefined ? `\`${name}\` is a ${found.decl.kind === 'Pipeline' ? 'pipeline' : 'dimension'}, not a function`
      : ++this.suggestions <= MAX_SUGGESTIONS ? didYouMean(name, [...dslNames(), ...fns()]) : null;
    this.out.push(diag('RLP2009', e.callee.span, { name }, { help }));
    return null;
  }

  private callOp(cands: readonly OpDef[], e: CallExpr, ctx: Ctx): number | null {
    const overs = e.args.filter((a) => a.kind === 'Over');
    const wheres = e.args.filter((a) => a.kind === 'Where');
    const hasOver = overs.length > 0;
    const op = cands.find((o) => (o.over === 'required') === hasOver) ?? cands[0]!;
    const shown = `\`${e.callee.name}\``;
    if (hasOver && op.over !== 'required') return this.fail('RLP3013', overs[0]!.span, { callee: e.callee.name, clause: '`over`' });
    if (!hasOver && op.over === 'required') {
      return this.fail('RLP3014', e.span, { callee: e.callee.name, verb: op.traits.includes('reduction') ? 'reduce' : 'add' });
    }
    if (wheres.length > 0 && op.where !== true) return this.fail('RLP3013', wheres[0]!.span, { callee: e.callee.name, clause: '`where`' });
    if (overs.length > 1) return this.fail('RLP3012', overs[1]!.span, { callee: e.callee.name, name: 'over' });
    if (wheres.length > 1) return this.fail('RLP3012', wheres[1]!.span, { callee: e.callee.name, name: 'where' });
    const matched = matchArgs(e, op.inputs.map((i) => ({ name: i.name, optional: i.default !== undefined })), this.out);
    if (matched === null) return null;
    const attrs: Record<string, AttrValue> = {};
    const inputs: number[] = [];
    const spans: Span[] = [];
    const specs: InputSpec[] = [];
    for (let i = 0; i < op.inputs.length; i++) {
      const spec = op.inputs[i]!;
      const m = matched[i] ?? null;
      if (spec.kind === 'const-number') {
        const c = m === null ? { value: spec.default!, isInt: true } : constEval(m.value);
        if (c === null || typeof c.value !== 'number') return this.fail('RLP3018', m!.span, { name: spec.name });
        attrs[spec.name] = c.value;
        continue;
      }
      const id = m === null ? this.defaultInput(spec, e.span, ctx) : this.expr(m.value, ctx);
      if (id === null) return null;
      inputs.push(id);
      spans.push(m?.span ?? e.span);
      specs.push(spec);
    }
    if (hasOver) {
      const dims = this.dims(overs[0]!.kind === 'Over' ? overs[0]!.dims : []);
      if (dims === null) return null;
      attrs['over'] = dims;
    }
    const w = wheres[0];
    if (w !== undefined && w.kind === 'Where') {
      const id = this.expr(w.value, ctx);
      if (id === null) return null;
      inputs.push(id);
      spans.push(w.value.span);
      specs.push({ name: 'where', kind: 'number' });
      attrs['where'] = true;
    }
    const id = this.apply(op, inputs, spans, attrs, e.span, ctx, shown, specs);
    return id === null ? null : this.constantBranch(op, inputs) ?? id;
  }

  /**
   * A selection on a condition known at compile time (a choice compared with a string, `true`)
   * is its chosen branch, with that branch's own type: a compile-time `if`. Both branches were
   * checked above.
   */
  private constantBranch(op: OpDef, inputs: readonly number[]): number | null {
    if (!op.traits.includes('selects')) return null;
    if (this.boolConst(inputs[0]!) === null) return null;
    return inputs[this.boolConst(inputs[0]!) === true ? 1 : 2]!;
  }

  private defaultInput(spec: InputSpec, at: Span, ctx: Ctx): number | null {
    const d = spec.default;
    if (typeof d === 'string') return this.node('const', [], { value: d }, STRING, at, ctx);
    if (typeof d === 'boolean') return this.constant(d, 'bool', at, ctx);
    return this.constant(d ?? 0, spec.kind === 'int-scalar' ? 'i32' : 'f32', at, ctx);
  }

  /** Validate dimension names; returns them in canonical order. */
  dims(ids: readonly { name: string; span: Span }[]): string[] | null {
    for (const d of ids) {
      if (!this.dimOrder.includes(d.name)) {
        return this.fail('RLP2014', d.span, { name: d.name }, didYouMean(d.name, this.dimOrder) ?? `known dimensions: ${listChoices(this.dimOrder)}`);
      }
    }
    return sortDims(ids.map((d) => d.name), this.dimOrder);
  }

  private index(e: Extract<Expr, { kind: 'Index' }>, ctx: Ctx): number | null {
    const x = this.expr(e.target, ctx);
    if (x === null) return null;
    if (this.dims([e.dim]) === null) return null;
    const c = constEval(e.index);
    if (c === null || typeof c.value !== 'number' || !c.isInt || c.value < 0) {
      return this.fail('RLP3017', e.index.span, { what: `the index along \`${e.dim.name}\` must be a constant non-negative integer` });
    }
    return this.apply(opByName('take')!, [x], [e.target.span], { dim: e.dim.name, index: c.value }, e.span, ctx, '`[]`');
  }

  private callFn(fd: FnDecl, fnModule: Module, e: CallExpr, ctx: Ctx): number | null {
    if (this.fnStack.includes(fd)) return this.fail('RLP2011', e.callee.span, { name: fd.name.name });
    if (this.fnStack.length >= MAX_CALL_DEPTH) return this.fail('RLP4021', e.callee.span, { limit: MAX_CALL_DEPTH, name: fd.name.name });
    const bad = e.args.find((a) => a.kind === 'Over' || a.kind === 'Where');
    if (bad !== undefined) return this.fail('RLP3013', bad.span, { callee: fd.name.name, clause: bad.kind === 'Over' ? '`over`' : '`where`' });
    const matched = matchArgs(e, fd.params.map((p) => ({ name: p.name.name, optional: false })), this.out);
    if (matched === null) return null;
    const locals = new Map<string, number>();
    for (let i = 0; i < fd.params.length; i++) {
      const p = fd.params[i]!;
      const m = matched[i]!;
      const id = this.expr(m.value, ctx);
      if (id === null) return null;
      if (p.type !== null && !this.conforms(id, p.type, m.span, `argument \`${p.name.name}\` of \`${fd.name.name}\``, fd.name.name, p.name.name)) return null;
      if (locals.has(p.name.name)) return this.fail('RLP2003', p.name.span, { name: p.name.name });
      locals.set(p.name.name, id);
    }
    const byArgs = this.inlined.get(fd) ?? new Map<string, number | null>();
    this.inlined.set(fd, byArgs);
    const key = [...locals.values()].join(',');
    if (byArgs.has(key)) return byArgs.get(key)!;
    this.fnStack.push(fd);
    try {
      const inner: Ctx = { module: fnModule, stage: null, locals, callSpans: [e.span, ...ctx.callSpans] };
      const body = this.body(fd, fd.body, inner, locals);
      const result = body === null || fd.returnType === null ? body
        : this.conforms(body, fd.returnType, e.span, `the result of \`${fd.name.name}\``, fd.name.name, 'result') ? body : null;
      byArgs.set(key, result);
      return result;
    } finally {
      this.fnStack.pop();
    }
  }

  private body(fd: FnDecl, members: readonly Member[], ctx: Ctx, locals: Map<string, number>): number | null {
    const last = members[members.length - 1];
    if (last === undefined || last.kind !== 'ExprStmt') return this.fail('RLP4010', fd.name.span, { name: fd.name.name });
    for (const m of members.slice(0, -1)) {
      if (m.kind === 'Minimize') return this.fail('RLP4006', m.span, { block: `fn ${fd.name.name}` });
      if (m.kind === 'ExprStmt') return this.fail('RLP4007', m.span, { hint: '; only the last statement of a function is its result' });
      if (m.value === null) return this.fail('RLP4008', m.span, { name: m.name.name });
      if (m.range !== null) return this.fail('RLP3031', m.range.span, { what: `only params declare ranges; \`${m.name.name}\` is a local of \`${fd.name.name}\`` });
      if (locals.has(m.name.name)) return this.fail('RLP2003', m.name.span, { name: m.name.name });
      const id = this.expr(m.value, ctx);
      if (id === null) return null;
      if (m.type !== null && !this.conforms(id, m.type, m.value.span, `\`${m.name.name}\``, fd.name.name, m.name.name)) return null;
      locals.set(m.name.name, id);
    }
    return this.expr(last.value, ctx);
  }

  /** Whether node `id` has the annotated type (numbers widen to f32); reports RLP3006 otherwise. */
  conforms(id: number, te: NonNullable<FnDecl['returnType']>, at: Span, _what: string, _owner: string, name: string): boolean {
    const want = resolveTensorType(te, this.dimOrder, this.out);
    if (want === null) return false;
    const got = this.builder.typeOf(id);
    if (typeMatches(got, want)) return true;
    const help = got.kind === 'tensor' && isCoarser(got, want) ? `spread it explicitly, e.g. \`expand(x, over ${want.dims.filter((d) => !got.dims.includes(d)).join(', ')})\`` : null;
    this.out.push(diag('RLP3006', at, { name, declared: formatType(want), found: formatType(got) }, { help }));
    return false;
  }

  /** Report a diagnostic and return null. */
  fail(code: string, at: Span, args: Record<string, string | number>, help: string | null = null): null {
    this.out.push(diag(code, at, args, { help }));
    return null;
  }
}

/** Annotation check: same dims; dtype equal, or a number where f32 is declared. */
export function typeMatches(got: Type, want: TensorType): boolean {
  if (got.kind !== 'tensor') return false;
  if (got.dims.join(',') !== want.dims.join(',')) return false;
  return got.dtype === want.dtype || (want.dtype === 'f32' && got.dtype !== 'bool');
}

function isCoarser(got: TensorType, want: TensorType): boolean {
  return got.dims.every((d) => want.dims.includes(d)) && got.dims.length < want.dims.length;
}
