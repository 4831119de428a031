/** Checking one flattened pipeline: params, state, bindings in stage order, minimize, updates -> IR. */
import type { Span } from '../../grammar/source.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { IrGraph, IrOutput, IrParam, IrState } from '../ir/graph.js';
import { didYouMean } from '../suggest.js';
import { formatType, tensor, type Type } from '../types.js';
import { Elaborator, typeMatches, type Ctx, type NameResolver } from './elaborate.js';
import { opByName } from '../ops/index.js';
import type { FlatPipeline } from './flatten.js';
import type { DataColumns } from '../compile.js';
import { BUILTIN_REWARDS, STAGES, STANDARD_INPUTS, standardInput } from './inputs.js';
import { checkDefaultInRange, resolveRange } from './range.js';
import { constEval, constFits, describeConst, resolveParamType, resolveTensorType } from './resolve-type.js';

const ORDER = [...STAGES, 'update'];
const stageIndex = (s: string): number => ORDER.indexOf(s);

/** Checks one pipeline and builds its IR (null when it has errors). */
export class PipelineChecker implements NameResolver {
  private readonly el: Elaborator;
  private readonly values = new Map<string, number | null>();
  private readonly inProgress: string[] = [];
  private readonly usedBindings = new Set<string>();
  private readonly usedParams = new Set<string>();
  private readonly params: IrParam[] = [];
  private readonly paramTypes = new Map<string, Type>();
  private readonly state: IrState[] = [];
  private readonly stateTypes = new Map<string, Type>();

  private readonly rewardNames: readonly string[];

  constructor(
    private readonly flat: FlatPipeline,
    private readonly dimOrder: readonly string[],
    private readonly out: Diagnostic[],
    private readonly extraRewards: readonly string[] = [],
    private readonly rewardColumns: Readonly<Record<string, readonly string[]>> = {},
    private readonly data: DataColumns | null = null,
  ) {
    this.rewardNames = [...BUILTIN_REWARDS.map((r) => r.name), ...extraRewards];
    this.el = new Elaborator(dimOrder, out);
    this.el.resolver = this;
  }

  /** The types of the bindings and state variables elaborated so far (a side table for editors). */
  valueTypes(): Map<string, Type> {
    const types = new Map<string, Type>(this.stateTypes);
    for (const [name, id] of this.values) if (id !== null) types.set(name, this.el.builder.typeOf(id));
    return types;
  }

  /** Run every check; returns the graph when this pipeline has no errors. */
  run(): IrGraph | null {
    const before = this.out.filter((d) => d.severity === 'error').length;
    this.checkNameClashes();
    this.checkParams();
    this.checkState();
    const outputs: IrOutput[] = [];
    const bindings = [...this.flat.bindings.values()].sort((a, b) => stageIndex(a.stage) - stageIndex(b.stage));
    for (const b of bindings) {
      const id = this.binding(b.name.name, null, null);
      if (id !== null) outputs.push({ name: `${b.stage}.${b.name.name}`, node: id });
    }
    const loss = this.minimize();
    if (loss !== null) outputs.push({ name: 'loss', node: loss });
    outputs.push(...this.updates());
    this.reportUnusedBindings();
    if (this.out.filter((d) => d.severity === 'error').length > before) return null;
    this.reportUnusedParams();
    const decl = this.flat.decl;
    return this.el.builder.finish(outputs, { pipeline: decl.name.name, doc: decl.doc, dimOrder: this.dimOrder, params: this.params, state: this.state });
  }

  private ctx(stage: string | null, module = this.flat.module): Ctx {
    return { module, stage, locals: null, callSpans: [] };
  }

  private checkNameClashes(): void {
    for (const [name, b] of this.flat.bindings) {
      const other = this.flat.params.get(name) ?? this.flat.state.get(name);
      if (other !== undefined) {
        this.out.push(diag('RLP2003', b.name.span, { name, where: ` (also a ${this.flat.params.has(name) ? 'param' : 'state variable'})` }, {
          labels: [{ span: other.decl.name.span, message: 'declared here' }],
        }));
      }
    }
  }

  private checkParams(): void {
    for (const [name, p] of this.flat.params) {
      const t = resolveParamType(p.decl.type!, this.out);
      if (t === null) continue;
      let dflt: number | string | boolean | null = null;
      const range = p.decl.range === null ? null : resolveRange(name, p.decl.range, t, this.out);
      if (p.decl.value !== null) {
        const c = constEval(p.decl.value);
        if (c === null) this.out.push(diag('RLP3018', p.decl.value.span, { name }));
        else if (!constFits(c, t)) this.out.push(diag('RLP3007', p.decl.value.span, { name, type: t, found: describeConst(c) }));
        else dflt = c.value;
      }
      if (range !== null && typeof dflt === 'number') checkDefaultInRange(p.decl, range, dflt, this.out);
      this.params.push({ name, type: t, default: dflt, range, doc: p.decl.docString ?? p.decl.doc });
      const dtype = t === 'int' ? 'i32' : t === 'float' ? 'f32' : t === 'bool' ? 'bool' : null;
      this.paramTypes.set(name, dtype === null ? { kind: 'string' } : tensor(dtype));
    }
  }

  private checkState(): void {
    for (const [name, s] of this.flat.state) {
      const t = resolveTensorType(s.decl.type!, this.dimOrder, this.out);
      if (t === null) continue;
      const c = constEval(s.decl.value!);
      if (c === null || typeof c.value === 'string') {
        this.out.push(diag('RLP3018', s.decl.value!.span, { name }));
        continue;
      }
      this.state.push({ name, type: t, init: c.value });
      this.stateTypes.set(name, t);
    }
  }

  /** Elaborate a binding once (memoized), detecting cycles and uses of later stages. */
  private binding(name: string, useSpan: Span | null, from: Ctx | null): number | null {
    const b = this.flat.bindings.get(name)!;
    if (from !== null && from.stage !== null && stageIndex(b.stage) > stageIndex(from.stage) && useSpan !== null) {
      const user = this.inProgress[this.inProgress.length - 1] ?? (from.stage === 'loss' ? 'minimize' : from.stage);
      this.out.push(diag('RLP4002', useSpan, { name: user, stage: from.stage, used: name, later: b.stage }, {
        labels: [{ span: b.name.span, message: `bound in stage \`${b.stage}\`` }],
        notes: ['stages run in order: sample, reward, advantage, normalize, loss, then update'],
      }));
      return null;
    }
    if (useSpan !== null) this.usedBindings.add(name);
    if (this.values.has(name)) return this.values.get(name)!;
    const at = this.inProgress.indexOf(name);
    if (at >= 0) {
      const chain = [...this.inProgress.slice(at), name].map((n) => '`' + n + '`').join(' -> ');
      this.out.push(diag('RLP2010', useSpan ?? b.name.span, { chain }));
      return null;
    }
    this.inProgress.push(name);
    let id = this.el.expr(b.value, this.ctx(b.stage, b.module));
    this.inProgress.pop();
    if (id !== null && b.decl.type !== null && !this.el.conforms(id, b.decl.type, b.value.span, '', '', name)) id = null;
    this.values.set(name, id);
    return id;
  }

  resolve(name: string, span: Span, ctx: Ctx): number | null | undefined {
    if (this.flat.bindings.has(name)) return this.binding(name, span, ctx);
    const pt = this.paramTypes.get(name);
    if (pt !== undefined) {
      this.usedParams.add(name);
      return this.el.node('param', [], { name }, pt, span, ctx);
    }
    if (this.flat.params.has(name)) return null;
    const st = this.stateTypes.get(name);
    if (st !== undefined) return this.el.node('state', [], { name }, st, span, ctx);
    if (this.flat.state.has(name)) return null;
    const input = standardInput(name);
    if (input !== undefined) return this.el.node('input', [], { name }, input.type, span, ctx);
    if (ctx.stage === 'reward' && this.rewardNames.includes(name)) {
      this.checkRewardColumns(name, span);
      return this.el.node('reward_fn', [], { name }, tensor('f32', ['B', 'G']), span, ctx);
    }
    return undefined;
  }

  /** The columns reward function `name` reads must be in every row of the run's data. */
  private checkRewardColumns(name: string, span: Span): void {
    if (this.data === null) return;
    const columns = this.extraRewards.includes(name) ? this.rewardColumns[name] ?? [] : BUILTIN_REWARDS.find((r) => r.name === name)?.columns ?? [];
    for (const column of columns) {
      if (this.data.columns.includes(column)) continue;
      const line = this.data.partial?.[column];
      const how = line !== undefined ? `lacks in some rows` : 'does not have';
      const notes = line !== undefined ? [`the first row without it is line ${line}`] : [`the columns of every row: ${this.data.columns.join(', ') || '(none)'}`];
      this.out.push(diag('RLP4014', span, { name, column, data: this.data.source, how }, { notes, help: didYouMean(column, this.data.columns) }));
    }
  }

  unknownHint(name: string, ctx: Ctx): string | null {
    if (ctx.stage !== 'reward' || this.extraRewards.length > 0) return null;
    return `if \`${name}\` is a reward function of your own, name its module with \`--rewards FILE.mjs\` (rlp check, rlp run); the built-in rewards are ${BUILTIN_REWARDS.map((r) => `\`${r.name}\``).join(', ')}`;
  }

  visibleNames(ctx: Ctx): string[] {
    const names = [...this.flat.bindings.keys(), ...this.flat.params.keys(), ...this.flat.state.keys(), ...STANDARD_INPUTS.map((i) => i.name)];
    if (ctx.stage === 'reward') names.push(...this.rewardNames);
    return names;
  }

  private minimize(): number | null {
    const m = this.flat.minimize;
    if (m === null) return null;
    const id = this.el.expr(m.node.value, this.ctx('loss', m.module));
    if (id === null) return null;
    const t = this.el.builder.typeOf(id);
    if (t.kind !== 'tensor' || t.dims.length > 0) {
      const help = t.kind === 'tensor' ? `reduce it, e.g. \`mean(x, over [${t.dims.join(', ')}]${t.mask !== null ? `, where ${t.mask}` : ''})\`` : null;
      this.out.push(diag('RLP4003', m.node.value.span, { type: formatType(t) }, { help }));
      return null;
    }
    return id;
  }

  private updates(): { name: string; node: number }[] {
    const outs: { name: string; node: number }[] = [];
    for (const [name, u] of this.flat.updates) {
      const st = this.stateTypes.get(name);
      if (st === undefined) {
        if (!this.flat.state.has(name)) {
          this.out.push(diag('RLP2012', u.decl.name.span, { name, pipeline: this.flat.decl.name.name }, { help: didYouMean(name, [...this.flat.state.keys()]) }));
        }
        continue;
      }
      const ctx = this.ctx('update', u.module);
      const id = this.el.expr(u.decl.value!, ctx);
      if (id === null || st.kind !== 'tensor') continue;
      const got = this.el.builder.typeOf(id);
      if (!typeMatches(got, st)) {
        this.out.push(diag('RLP3006', u.decl.value!.span, { name, declared: formatType(st), found: formatType(got) }));
        continue;
      }
      const w = this.el.apply(opByNameStrict('state_update'), [id], [u.decl.value!.span], { name }, u.decl.span, ctx, '`update`');
      if (w !== null) outs.push({ name: `update.${name}`, node: w });
    }
    return outs;
  }

  private reportUnusedBindings(): void {
    const parentNames = [...this.flat.bindings.values()].filter((b) => !b.isNewInChild).map((b) => b.name.name);
    for (const b of this.flat.bindings.values()) {
      if (b.isNewInChild && !this.usedBindings.has(b.name.name)) {
        this.out.push(diag('RLP2006', b.name.span, { name: b.name.name, parent: this.flat.parentName ?? '' }, {
          help: didYouMean(b.name.name, parentNames) ?? 'use it from another binding, or remove it',
        }));
      }
    }
  }

  /** Warn about own params nothing reads (only for pipelines without errors, to avoid noise). */
  private reportUnusedParams(): void {
    for (const [name, p] of this.flat.params) {
      if (p.own && !this.usedParams.has(name) && p.module === this.flat.module) {
        this.out.push(diag('RLP4012', p.decl.name.span, { name }));
      }
    }
  }
}

function opByNameStrict(name: string): NonNullable<ReturnType<typeof opByName>> {
  const op = opByName(name);
  if (op === undefined) throw new Error(`internal: no op ${name}`);
  return op;
}
