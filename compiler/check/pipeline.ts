/** Checking one flattened pipeline: params, state, bindings in stage order, minimize, updates -> IR. */
import { forEachChild, type Binding, type Expr } from '../../grammar/ast.js';
import type { Span } from '../../grammar/source.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { IrDeclaredInput, IrGraph, IrOutput, IrParam, IrState } from '../ir/graph.js';
import { didYouMean } from '../suggest.js';
import { formatType, STRING, tensor, type Type } from '../types.js';
import { checkChoiceParam, type CheckedChoice } from './choice.js';
import { Elaborator, MAX_SUGGESTIONS, typeMatches, type Ctx, type NameResolver } from './elaborate.js';
import { opByName } from '../ops/index.js';
import type { FlatBinding, FlatPipeline } from './flatten.js';
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
  /** Uses that close a binding cycle, reported by dependencyOrder. */
  private readonly cycleUses = new Set<Span>();
  private readonly usedBindings = new Set<string>();
  private readonly usedParams = new Set<string>();
  private readonly params: IrParam[] = [];
  private readonly paramTypes = new Map<string, Type>();
  private readonly state: IrState[] = [];
  private readonly stateTypes = new Map<string, Type>();
  private readonly inputs: IrDeclaredInput[] = [];
  private readonly inputTypes = new Map<string, Type>();
  private readonly usedInputs = new Set<string>();
  private readonly choices = new Map<string, CheckedChoice>();

  private readonly rewardNames: readonly string[];

  constructor(
    private readonly flat: FlatPipeline,
    private readonly dimOrder: readonly string[],
    private readonly out: Diagnostic[],
    private readonly extraRewards: readonly string[] = [],
    private readonly rewardColumns: Readonly<Record<string, readonly string[]>> = {},
    private readonly data: DataColumns | null = null,
    private readonly set: Readonly<Record<string, string>> = {},
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
    this.checkInputs();
    this.checkState();
    const outputs: IrOutput[] = [];
    const bindings = [...this.flat.bindings.values()].sort((a, b) => stageIndex(a.stage) - stageIndex(b.stage));
    // Dependencies first: no binding's elaboration recurses into another's (30,000 chained
    // bindings need one stack frame, not 30,000).
    for (const b of this.dependencyOrder(bindings)) this.binding(b.name.name, null, null);
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
    this.reportUnusedInputs();
    const decl = this.flat.decl;
    return this.el.builder.finish(outputs, { pipeline: decl.name.name, doc: decl.doc, dimOrder: this.dimOrder, params: this.params, state: this.state, inputs: this.inputs });
  }

  /**
   * The bindings in an order where each comes after the bindings it reads: an iterative
   * depth-first post-order over the names each binding's expression uses (uses of a later stage
   * excluded: those are RLP4002, never followed). A use that closes a cycle is reported here
   * (RLP2010) and remembered, so elaboration answers it with null instead of recursing.
   */
  private dependencyOrder(bindings: readonly FlatBinding[]): FlatBinding[] {
    const done = new Set<string>();
    const onStack = new Map<string, number>();
    const order: FlatBinding[] = [];
    for (const root of bindings) {
      if (done.has(root.name.name)) continue;
      const stack: { b: FlatBinding; uses: Extract<Expr, { kind: 'Name' }>[]; i: number }[] = [];
      const enter = (b: FlatBinding): void => {
        onStack.set(b.name.name, stack.length);
        stack.push({ b, uses: this.bindingUses(b), i: 0 });
      };
      enter(root);
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        const use = top.uses[top.i++];
        if (use === undefined) {
          stack.pop();
          onStack.delete(top.b.name.name);
          done.add(top.b.name.name);
          order.push(top.b);
          continue;
        }
        if (done.has(use.name)) continue;
        const at = onStack.get(use.name);
        if (at === undefined) enter(this.flat.bindings.get(use.name)!);
        else {
          this.out.push(diag('RLP2010', use.span, { chain: cycleChain([...stack.slice(at).map((f) => f.b.name.name), use.name]) }));
          this.cycleUses.add(use.span);
        }
      }
    }
    return order;
  }

  /** The uses of other bindings in a binding's expression (not of later stages), left to right. */
  private bindingUses(b: FlatBinding): Extract<Expr, { kind: 'Name' }>[] {
    const uses: Extract<Expr, { kind: 'Name' }>[] = [];
    const stack: Expr[] = [b.value];
    while (stack.length > 0) {
      const e = stack.pop()!;
      if (e.kind === 'Name') {
        const used = this.flat.bindings.get(e.name);
        if (used !== undefined && stageIndex(used.stage) <= stageIndex(b.stage)) uses.push(e);
        continue;
      }
      const children: Expr[] = [];
      if (e.kind === 'Index') children.push(e.target);
      else forEachChild(e, (c) => children.push(c));
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
    return uses;
  }

  private ctx(stage: string | null, module = this.flat.module): Ctx {
    return { module, stage, locals: null, callSpans: [] };
  }

  private checkNameClashes(): void {
    for (const [name, b] of this.flat.bindings) {
      const other = this.flat.params.get(name) ?? this.flat.state.get(name) ?? this.flat.inputs.get(name);
      if (other !== undefined) {
        const what = this.flat.params.has(name) ? 'param' : this.flat.state.has(name) ? 'state variable' : 'declared input';
        this.out.push(diag('RLP2003', b.name.span, { name, where: ` (also a ${what})` }, {
          labels: [{ span: other.decl.name.span, message: 'declared here' }],
        }));
      }
    }
    for (const [name, i] of this.flat.inputs) {
      const other = this.flat.params.get(name) ?? this.flat.state.get(name);
      if (other !== undefined) {
        this.out.push(diag('RLP2003', i.decl.name.span, { name, where: ` (also a ${this.flat.params.has(name) ? 'param' : 'state variable'})` }, {
          labels: [{ span: other.decl.name.span, message: 'declared here' }],
        }));
      }
    }
  }

  /** Declared inputs: resolve their tensor types (named dims, including declared `dim`s). */
  private checkInputs(): void {
    for (const [name, i] of this.flat.inputs) {
      const t = resolveTensorType(i.decl.type!, this.dimOrder, this.out);
      if (t === null) continue;
      this.inputs.push({ name, type: t, doc: i.decl.docString ?? i.decl.doc });
      this.inputTypes.set(name, t);
    }
  }

  private checkParams(): void {
    for (const [name, p] of this.flat.params) {
      const t = resolveParamType(p.decl.type!, this.out);
      if (t === null) continue;
      if (t === 'choice') {
        this.checkChoice(name, p.decl);
        continue;
      }
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

  /** A choice param: its list, its default, and the value `--set` or the default picks. */
  private checkChoice(name: string, decl: Binding): void {
    const choice = checkChoiceParam(name, decl, this.set[name], this.out);
    if (choice === null) return;
    this.params.push({ name, type: 'choice', default: choice.dflt, doc: decl.docString ?? decl.doc, choices: choice.choices, chosen: choice.chosen, range: null });
    this.choices.set(name, choice);
    this.paramTypes.set(name, STRING);
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
    if (useSpan !== null && this.cycleUses.has(useSpan)) return null;
    if (this.values.has(name)) return this.values.get(name)!;
    const at = this.inProgress.indexOf(name);
    if (at >= 0) {
      this.out.push(diag('RLP2010', useSpan ?? b.name.span, { chain: cycleChain([...this.inProgress.slice(at), name]) }));
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
    const choice = this.choices.get(name);
    if (choice !== undefined) {
      this.usedParams.add(name);
      return this.el.node('const', [], { value: choice.chosen, choice: name, choices: choice.choices }, STRING, span, ctx);
    }
    if (pt !== undefined) {
      this.usedParams.add(name);
      return this.el.node('param', [], { name }, pt, span, ctx);
    }
    if (this.flat.params.has(name)) return null;
    const st = this.stateTypes.get(name);
    if (st !== undefined) return this.el.node('state', [], { name }, st, span, ctx);
    if (this.flat.state.has(name)) return null;
    const declared = this.inputTypes.get(name);
    if (declared !== undefined) {
      this.usedInputs.add(name);
      return this.el.node('input', [], { name }, declared, span, ctx);
    }
    if (this.flat.inputs.has(name)) return null;
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
    const names = [...this.flat.bindings.keys(), ...this.flat.params.keys(), ...this.flat.state.keys(), ...this.flat.inputs.keys(), ...STANDARD_INPUTS.map((i) => i.name)];
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
    let suggested = 0;
    for (const b of this.flat.bindings.values()) {
      if (b.isNewInChild && !this.usedBindings.has(b.name.name)) {
        // As for unknown names: at most MAX_SUGGESTIONS did-you-means, so a generated child stays linear.
        const near = ++suggested <= MAX_SUGGESTIONS ? didYouMean(b.name.name, parentNames) : null;
        this.out.push(diag('RLP2006', b.name.span, { name: b.name.name, parent: this.flat.parentName ?? '' }, {
          help: near ?? 'use it from another binding, or remove it',
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

  /** Warn about own declared inputs nothing reads (only for pipelines without errors). */
  private reportUnusedInputs(): void {
    for (const [name, i] of this.flat.inputs) {
      if (i.own && !this.usedInputs.has(name) && i.module === this.flat.module) {
        this.out.push(diag('RLP4032', i.decl.name.span, { name }));
      }
    }
  }
}

/** A cycle as `a` -> `b` -> `a`; a long one shows its first and last bindings and how many are between. */
function cycleChain(names: readonly string[]): string {
  const shown = names.length <= 12 ? names.map((n) => '`' + n + '`')
    : [...names.slice(0, 5).map((n) => '`' + n + '`'), `... ${names.length - 10} more ...`, ...names.slice(-5).map((n) => '`' + n + '`')];
  return shown.join(' -> ');
}

function opByNameStrict(name: string): NonNullable<ReturnType<typeof opByName>> {
  const op = opByName(name);
  if (op === undefined) throw new Error(`internal: no op ${name}`);
  return op;
}
