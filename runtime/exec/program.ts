/**
 * The compiled program: what lowering one compiled pipeline for one run produces, and the one
 * artifact `rlp eval`, `rlp run` and the bench consume. It holds the resolved params, the
 * rollout's settings, the inputs the pipeline declares and reads, its outputs (dims, and whether
 * they depend on the policy), the bindings a trainer reports as metrics, its state variables with
 * their update outputs, the reward functions it calls, and its stage plans, built on the
 * optimized (fused) IR. Consumers ask the program; they never walk the IR themselves (the trainer
 * imports nothing from compiler/ir, a test enforces it).
 *
 * Lowering (IR -> plan, ./plan.ts) lives beside the executor, so the program does too.
 */
import { optimize, type CompiledPipeline } from '../../compiler/compile.js';
import { standardInput } from '../../compiler/check/inputs.js';
import type { IrGraph, IrParam } from '../../compiler/ir/graph.js';
import { formatRange, inRange } from '../../compiler/ir/param-range.js';
import { opByName } from '../../compiler/ops/index.js';
import { policyDependent } from '../../compiler/passes/fuse.js';
import { runPipeline } from '../../compiler/passes/index.js';
import type { DType, Type } from '../../compiler/types.js';
import { buildPlan, feedableNames, requiredInputs, type Plan } from './plan.js';

/** A problem with what a run asks of a pipeline (an unknown param, a bad value): a user error. */
export class ProgramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProgramError';
  }
}

/** The settings of the pipeline's `rollout` (its sample stage), evaluated with the run's params. */
export interface RolloutSpec {
  readonly n: number;
  readonly temperature: number;
  readonly topP: number;
  readonly maxTokens: number;
  readonly dynamic: boolean;
  readonly stop: string;
  /** HBPO: prompt continuations, one per equal subgroup of the n samples. */
  readonly suffixes: readonly string[];
  /** DR-PO: the probability that a sample starts from a prefix of the `resetFrom` column. */
  readonly reset: number;
  readonly resetFrom: string;
  /** GHPO: the column whose beginning is the hint for a group that is all wrong ('' = off). */
  readonly hintFrom: string;
  readonly hintText: string;
  /** SPO: samples per cut (0 = off) and the cut interval in sampled tokens. */
  readonly continuations: number;
  readonly segment: number;
}

/** A param as declared, with the value this program runs with (null: a required param without one). */
export interface ProgramParam extends IrParam {
  readonly value: number | boolean | string | null;
}

/** A value's element type and named dims; `dtype` null for a value that is not a tensor. */
export interface ProgramValue {
  readonly name: string;
  readonly dtype: DType | null;
  readonly dims: readonly string[];
}

/** An input: a standard one the pipeline reads, or one its `inputs` block declares. */
export interface ProgramInput extends ProgramValue {
  readonly doc: string;
  /** Declared by the pipeline's `inputs` block (else a standard input). */
  readonly declared: boolean;
  /** Whether the computation reads it (a declared input may go unused). */
  readonly read: boolean;
}

/** A named result: `stage.binding`, `loss` or `update.NAME`. */
export interface ProgramOutput extends ProgramValue {
  /** The stage it belongs to (`loss` for the loss itself, `update` for state updates). */
  readonly stage: string;
  /** Whether it depends on the policy's outputs (`logp`, `entropy`): it changes with the weights. */
  readonly policy: boolean;
  /**
   * A batch-level value: a tensor binding that does not depend on the policy (advantages,
   * rewards, denominators). A trainer computes these once on the whole batch and feeds them to
   * every micro-batch, so the summed gradients do not depend on the split.
   */
  readonly batchLevel: boolean;
}

/** A state variable, carried from step to step. */
export interface ProgramState extends ProgramValue {
  readonly init: number | boolean;
  /** The output its `update` block computes (`update.NAME`), or null when it is never updated. */
  readonly update: string | null;
}

/** The bindings a trainer reports as metrics (each null or empty when the pipeline has none). */
export interface ProgramMetrics {
  /** The advantage stage's result: its last binding. */
  readonly advantage: string | null;
  /** The importance ratio TRL's clip metrics look at: `loss.ratio` per token, or GSPO's `loss.seq_ratio`. */
  readonly ratio: string | null;
  /** Scalar `loss.frac_*` bindings (fractions of tokens truncated or masked), logged as `loss/frac_*`. */
  readonly fractions: readonly string[];
  /** A preference pipeline's `chosen_reward`, `rejected_reward` and `margin` bindings. */
  readonly preference: { readonly chosen: string | null; readonly rejected: string | null; readonly margin: string | null };
}

/** What the reward stage needs from a run. */
export interface RewardNeeds {
  /** The reward functions it calls, by name (fed as `reward_fn.NAME`, `f32[B,G]`). */
  readonly functions: readonly string[];
  /** The reward stage's result (its last binding), or null without a reward stage. */
  readonly stage: string | null;
}

/** One compiled pipeline, lowered for a run. */
export interface CompiledProgram {
  readonly name: string;
  readonly file: string;
  readonly doc: string;
  /** `O0` (the checked IR), `default` (the default passes) or `specialize` (params folded first). */
  readonly level: LowerLevel;
  readonly params: readonly ProgramParam[];
  /** The numeric and boolean param values plans read (defaults overridden by `--set`). */
  readonly values: ReadonlyMap<string, number | boolean>;
  /** The sample stage's settings, or null for a pipeline without one (a preference pipeline). */
  readonly rollout: RolloutSpec | null;
  /** Every declared input, and every standard input the computation reads. */
  readonly inputs: readonly ProgramInput[];
  readonly outputs: readonly ProgramOutput[];
  readonly metrics: ProgramMetrics;
  readonly state: readonly ProgramState[];
  readonly rewards: RewardNeeds;
  /** The names a value can be fed under: inputs, `reward_fn.NAME`, bindings as `stage.name` and bare. */
  readonly feedable: ReadonlySet<string>;
  /** The output of this name, if there is one. */
  output(name: string): ProgramOutput | undefined;
  /** Whether the computation reads the input `name` (standard or declared). */
  reads(name: string): boolean;
  /** The plan computing `want` (output names) from the `fed` names; built once per pair. */
  plan(fed: readonly string[], want: readonly string[]): Plan;
  /** The inputs (and reward functions, as `reward_fn.NAME`) a plan still needs from its caller. */
  unfed(plan: Plan): string[];
  /**
   * The IR the plans are built on, for the consumers that explain a program in source terms
   * (batch validation's diagnostics, the profiler, viz). A trainer never reads it.
   */
  readonly graph: IrGraph;
}

/** How far a program is optimized. */
export type LowerLevel = 'O0' | 'default' | 'specialize';

/** Options of lowering. */
export interface LowerOptions {
  /** `--set NAME=VALUE` values (choice params were picked at compile time). */
  readonly set?: Readonly<Record<string, string>>;
  /** Param values already resolved and checked (by `rlp eval`'s validation); default: resolved from `set`. */
  readonly values?: ReadonlyMap<string, number | boolean>;
  /**
   * `O0`: the checked IR, no passes; `default` (the default): the pipeline's optimized IR, for any
   * param values; `specialize`: the params become constants, then the default passes.
   */
  readonly level?: LowerLevel;
  /**
   * Names the caller will feed. A fed binding that depends on the policy could be absorbed by a
   * fused region, which would recompute it instead of reading the fed value: then `specialize`
   * runs every pass but `fuse`.
   */
  readonly fed?: readonly string[];
}

/** Lower a compiled pipeline for a run: resolve its params, pick its IR, and describe it. */
export function lowerProgram(p: CompiledPipeline, o: LowerOptions = {}): CompiledProgram {
  const set = o.set ?? {};
  const level = o.level ?? 'default';
  const values = o.values ?? resolveParams(p.raw, set);
  const g = level === 'O0' ? p.raw : level === 'default' ? p.ir : specialized(p, values, o.fed ?? []);
  return describe(p, g, level, values, set);
}

/** The IR optimized for these param values (without `fuse` when a fed binding depends on the policy). */
function specialized(p: CompiledPipeline, values: ReadonlyMap<string, number | boolean>, fed: readonly string[]): IrGraph {
  const policy = policyDependent(p.raw);
  const feedable = feedableNames(p.raw);
  const feedsPolicyBinding = fed.some((name) => {
    const id = feedable.get(name);
    return id !== undefined && p.raw.node(id).op !== 'input' && policy.has(id);
  });
  const passes = runPipeline(values).filter((x) => !(feedsPolicyBinding && x.name === 'fuse'));
  return optimize(p.name, p.file, p.raw, passes).ir;
}

/** The pipeline's numeric and boolean params: defaults, overridden by `--set` values (checked against the param's type and range). */
export function resolveParams(g: IrGraph, set: Readonly<Record<string, string>>): Map<string, number | boolean> {
  const out = new Map<string, number | boolean>();
  for (const p of g.meta.params) if (typeof p.default === 'number' || typeof p.default === 'boolean') out.set(p.name, p.default);
  for (const [k, raw] of Object.entries(set)) {
    const p = g.meta.params.find((x) => x.name === k);
    if (p === undefined) throw new ProgramError(`\`${k}\` is not a param of \`${g.meta.pipeline}\`; its params are ${g.meta.params.map((x) => x.name).join(', ')}`);
    if (p.type === 'choice') continue; // picked and checked at compile time
    const v = parseParam(p.type, raw);
    if (v === null) throw new ProgramError(`param \`${k}\` is \`${p.type}\`, but \`${raw}\` is not one`);
    if (typeof v === 'number' && p.range !== null && !inRange(p.range, v)) throw new ProgramError(`param \`${k}\` is set to ${raw}, outside its range ${formatRange(p.range)}`);
    if (typeof v !== 'string') out.set(k, v);
  }
  return out;
}

/** Parse a `--set` value by the param's type; null when it does not parse. */
export function parseParam(type: 'int' | 'float' | 'bool' | 'string', raw: string): number | boolean | string | null {
  if (type === 'string') return raw;
  if (type === 'bool') return raw === 'true' ? true : raw === 'false' ? false : null;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw.trim())) return null;
  const v = Number(raw);
  // Out of range is not a value: `1e999` would silently be Infinity, a huge int would lose digits.
  if (type === 'int') return Number.isSafeInteger(v) ? v : null;
  return Number.isFinite(v) ? v : null;
}

function valueOf(name: string, t: Type): ProgramValue {
  return t.kind === 'tensor' ? { name, dtype: t.dtype, dims: t.dims } : { name, dtype: null, dims: [] };
}

/** The binding names a preference pipeline reports as metrics (TRL's `rewards/chosen`, ...), as documented. */
export const PREFERENCE_METRIC_BINDINGS = Object.freeze(['chosen_reward', 'rejected_reward', 'margin'] as const);

/** Everything a consumer asks of the program, read off its graph once. */
function describe(p: CompiledPipeline, g: IrGraph, level: LowerLevel, values: ReadonlyMap<string, number | boolean>, set: Readonly<Record<string, string>>): CompiledProgram {
  const nodes = g.ordered();
  const feedable = feedableNames(g);
  const readNames = new Set(nodes.filter((n) => n.op === 'input').map((n) => String(n.attrs['name'])));
  // Everything computed from the policy's outputs (logp, entropy) changes with the weights.
  const policy = new Set<number>();
  for (const name of ['logp', 'entropy']) {
    const id = feedable.get(name);
    if (id === undefined) continue;
    policy.add(id);
    for (const n of nodes) if (n.inputs.some((i) => policy.has(i))) policy.add(n.id);
  }
  const outputs: ProgramOutput[] = g.outputs.map((o) => {
    const v = valueOf(o.name, g.node(o.node).type);
    const stage = o.name === 'loss' ? 'loss' : o.name.slice(0, o.name.indexOf('.'));
    const dependent = policy.has(o.node);
    return { ...v, stage, policy: dependent, batchLevel: o.name !== 'loss' && stage !== 'update' && !dependent && v.dtype !== null };
  });
  const declared = g.meta.inputs ?? [];
  const inputs: ProgramInput[] = [
    ...declared.map((i) => ({ ...valueOf(i.name, i.type), doc: i.doc, declared: true, read: readNames.has(i.name) })),
    ...[...readNames].filter((n) => !declared.some((i) => i.name === n)).map((n) => {
      const std = standardInput(n);
      const type = std?.type ?? nodes.find((x) => x.op === 'input' && x.attrs['name'] === n)!.type;
      return { ...valueOf(n, type), doc: std?.doc ?? '', declared: false, read: true };
    }),
  ];
  const names = g.outputs.map((o) => o.name);
  const last = (prefix: string): string | null => names.filter((n) => n.startsWith(prefix)).pop() ?? null;
  const bindingNamed = (b: string): string | null => names.find((n) => n.endsWith(`.${b}`)) ?? null;
  const byName = new Map(outputs.map((o) => [o.name, o]));
  const plans = new Map<string, Plan>();
  const params: ProgramParam[] = g.meta.params.map((x) => ({
    ...x, value: values.get(x.name) ?? (x.type === 'string' || x.type === 'choice' ? (x.type === 'choice' ? x.chosen ?? null : set[x.name] ?? (typeof x.default === 'string' ? x.default : null)) : null),
  }));
  return {
    name: p.name,
    file: p.file,
    doc: g.meta.doc,
    level,
    params,
    values,
    rollout: rolloutSpec(g, values, set),
    inputs,
    outputs,
    metrics: {
      advantage: last('advantage.'),
      ratio: ['loss.ratio', 'loss.seq_ratio'].find((n) => names.includes(n)) ?? null,
      fractions: outputs.filter((o) => o.name.startsWith('loss.frac_') && o.dims.length === 0 && o.dtype !== null).map((o) => o.name),
      preference: { chosen: bindingNamed(PREFERENCE_METRIC_BINDINGS[0]), rejected: bindingNamed(PREFERENCE_METRIC_BINDINGS[1]), margin: bindingNamed(PREFERENCE_METRIC_BINDINGS[2]) },
    },
    state: g.meta.state.map((s) => ({ ...valueOf(s.name, s.type), init: s.init, update: names.includes(`update.${s.name}`) ? `update.${s.name}` : null })),
    rewards: {
      functions: [...new Set(nodes.filter((n) => n.op === 'reward_fn').map((n) => String(n.attrs['name'])))],
      stage: last('reward.'),
    },
    feedable: new Set(feedable.keys()),
    output: (name) => byName.get(name),
    reads: (name) => readNames.has(name),
    plan(fed, want) {
      const key = JSON.stringify([fed, want]);
      let plan = plans.get(key);
      if (plan === undefined) {
        plan = buildPlan(g, fed, want, { hostSmall: level !== 'O0' });
        plans.set(key, plan);
      }
      return plan;
    },
    unfed: (plan) => requiredInputs(plan).map((n) => (n.op === 'reward_fn' ? `reward_fn.${String(n.attrs['name'])}` : String(n.attrs['name']))),
    graph: g,
  };
}

/** Evaluate a scalar node made of constants, params and elementwise ops (the rollout's settings). */
function scalarValue(g: IrGraph, id: number, params: ReadonlyMap<string, number | boolean>): number {
  const n = g.node(id);
  if (n.op === 'const') return Number(n.attrs['value']);
  if (n.op === 'param') return Number(params.get(String(n.attrs['name'])));
  const op = opByName(n.op);
  if (op?.scalar === undefined) throw new ProgramError(`the sample stage's settings must be constants or params, found \`${n.op}\``);
  return op.scalar(...n.inputs.map((i) => scalarValue(g, i, params)));
}

/** A string setting: a literal, or a string param (its --set value or default). */
function stringValue(g: IrGraph, id: number, set: Readonly<Record<string, string>>): string {
  const n = g.node(id);
  if (n.op === 'const' && typeof n.attrs['value'] === 'string') return n.attrs['value'];
  if (n.op === 'param') {
    const name = String(n.attrs['name']);
    const p = g.meta.params.find((x) => x.name === name);
    return set[name] ?? (typeof p?.default === 'string' ? p.default : '');
  }
  throw new ProgramError(`the sample stage's stop must be a string literal or a string param, found \`${n.op}\``);
}

/** The settings of the graph's `rollout` node (see the `rollout` op), unchecked; null without one. */
function rolloutSpec(g: IrGraph, params: ReadonlyMap<string, number | boolean>, set: Readonly<Record<string, string>>): RolloutSpec | null {
  const r = g.ordered().find((n) => n.op === 'rollout');
  if (r === undefined) return null;
  const num = (i: number): number => scalarValue(g, r.inputs[i]!, params);
  const str = (i: number): string => stringValue(g, r.inputs[i]!, set);
  return {
    n: num(0), temperature: num(1), topP: num(2), maxTokens: num(3), dynamic: num(4) === 1, stop: str(5),
    suffixes: str(6) === '' ? [] : str(6).split('|'), reset: num(7), resetFrom: str(8), hintFrom: str(9), hintText: str(10),
    continuations: num(11), segment: num(12),
  };
}
