/**
 * A valid random batch for ANY pipeline, built from its IR alone, so that a test iterating over
 * every stdlib pipeline covers a pipeline added later without being told about it.
 *
 * What is fed is what the graph reads at its leaves: every `input` node (standard or declared in
 * an `inputs { }` block) and every reward function (`reward_fn.NAME`), never an intermediate
 * binding, so the reward and advantage stages run too. State is not fed (it starts from its
 * declared initial value, as on a run's first step). Dims: B, G, T from the spec; a pipeline's own
 * dims (C, K, P, H...) get `spec.dims[d]` or a default size of 3 (more where the pipeline takes an
 * index beyond it along that dim). Pipelines that take samples by
 * index along G (`x[G=1]`: preference pairs) get G = 2 by default (see `defaultShape`).
 *
 * Values:
 * - the standard columns of `makeBatch` (logp, old_logp, ref_logp, mask, reward, token rewards,
 *   values...) are taken from it, float32-exact with garbage (1e4) in the padding;
 * - the other standard inputs by their meaning (`rollout_logp` near old_logp, `label` 0/1,
 *   `step`/`total_steps` integers, `forced` 0 on completion tokens, `variant` and `hint_level`
 *   small integers, `entropy` positive);
 * - reward functions: `correct` is the spec's rewards (`ref.reward`), `format` 0/1, `length`
 *   a positive count, any other one uniform in (0.05, 0.95);
 * - declared inputs by type, refined by their declared doc: a doc starting "one-hot" gets one-hot
 *   rows over the last dim, a name ending `logp` or a doc about log-probabilities gets
 *   log-prob-like values padded like logp, a doc starting "number of" small integer counts;
 *   otherwise bool 0/1, i32 integers in [0, 3], f32 uniform in (0.05, 0.95) (probabilities,
 *   rewards and weights all live in [0, 1]; logs and lgamma of them stay finite), with garbage in
 *   the padding of inputs over T.
 * Params: `group` (when the pipeline has it) is set to G; a param without a default gets the
 * middle of its range (or 1). `spec.feeds` replaces or adds entries; `spec.set` adds params.
 */
import type { CompiledPipeline } from '../../compiler/compile.js';
import { standardInput } from '../../compiler/check/inputs.js';
import type { IrGraph, IrParam } from '../../compiler/ir/graph.js';
import type { TensorType } from '../../compiler/types.js';
import { makeSource, span } from '../../grammar/source.js';
import type { BatchEntry, HostTensor } from '../../runtime/batch/read.js';
import { named, type NamedArray } from '../../runtime/reference/named-array.js';
import { rng } from './random-batch.js';
import type { RefBatch } from './references.js';
import { makeBatch, type BatchSpec } from './stdlib-harness.js';

const here = span(makeSource('batch', ''), 0, 0);
/** The size of a dim the spec does not name (besides B, G, T). */
export const DEFAULT_DIM_SIZE = 3;
const PAD = 1e4;

/** What to build: `makeBatch`'s spec with every size optional (see `defaultShape`), plus the pipeline's own dims and overrides. */
export interface PipelineBatchSpec extends Omit<BatchSpec, 'B' | 'G' | 'T'> {
  readonly B?: number;
  readonly G?: number;
  readonly T?: number;
  /** Sizes of the pipeline's own dims (default DEFAULT_DIM_SIZE each). */
  readonly dims?: Readonly<Record<string, number>>;
  /** Entries to feed instead of (or besides) the generated ones; a number is a scalar. */
  readonly feeds?: Readonly<Record<string, HostTensor | number>>;
  /** Params to set besides the generated ones (`--set` strings). */
  readonly set?: Readonly<Record<string, string>>;
}

/** A batch for one pipeline. */
export interface PipelineBatch {
  /** The standard columns, for references written over RefBatch. */
  readonly ref: RefBatch;
  /** Every feed the graph reads, in graph order (then `spec.feeds` extras). */
  readonly entries: readonly BatchEntry[];
  /** `--set` values the batch needs (`group`, params without defaults, `spec.set`). */
  readonly set: Readonly<Record<string, string>>;
  /** Every dim's size. */
  readonly sizes: ReadonlyMap<string, number>;
}

function graphOf(p: CompiledPipeline | IrGraph): IrGraph {
  return 'raw' in p ? p.raw : p;
}

/** The largest index the pipeline takes along `dim` (`x[G=1]`: 1), or -1 when it takes none. */
export function takesAlong(p: CompiledPipeline | IrGraph, dim: string): number {
  let max = -1;
  for (const n of graphOf(p).ordered()) if (n.op === 'take' && n.attrs['dim'] === dim) max = Math.max(max, Number(n.attrs['index']));
  return max;
}

/** Whether the pipeline takes samples by index along G (preference pairs: `x[G=0]`, `x[G=1]`); the largest index, or -1. */
export function takesAlongG(p: CompiledPipeline | IrGraph): number {
  return takesAlong(p, 'G');
}

/** Default sizes: pairs (G = 2, B = 3) for a pipeline that takes samples along G, else groups of 4 (B = 2), T = 6. */
export function defaultShape(p: CompiledPipeline | IrGraph): { B: number; G: number; T: number } {
  const k = takesAlongG(p);
  return k >= 0 ? { B: 3, G: Math.max(2, k + 1), T: 5 } : { B: 2, G: 4, T: 6 };
}

/** The feeds a graph reads: its inputs and reward functions, by feed name, with their types, in graph order. */
export function leafFeeds(p: CompiledPipeline | IrGraph): { name: string; type: TensorType; reward: boolean }[] {
  const out: { name: string; type: TensorType; reward: boolean }[] = [];
  const seen = new Set<string>();
  for (const n of graphOf(p).ordered()) {
    if ((n.op !== 'input' && n.op !== 'reward_fn') || n.type.kind !== 'tensor') continue;
    const name = n.op === 'input' ? String(n.attrs['name']) : `reward_fn.${String(n.attrs['name'])}`;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, type: n.type, reward: n.op === 'reward_fn' });
  }
  return out;
}

/**
 * The input holding the policy's log-probs, the one a training step differentiates: `logp` where
 * the graph reads it, else the declared input whose doc says it is under the current policy
 * (mdpo_diffusion's `step_logp`, "log-prob under the current policy of ..."). Throws when there is
 * none, so a pipeline added later with its own policy input gets a doc that names it so.
 */
export function policyLogp(p: CompiledPipeline | IrGraph): string {
  const g = graphOf(p);
  const read = new Set(leafFeeds(g).map((l) => l.name));
  if (read.has('logp')) return 'logp';
  const own = (g.meta.inputs ?? []).filter((i) => read.has(i.name) && /under the current policy/i.test(i.doc));
  if (own.length !== 1) throw new Error(`${g.meta.pipeline}: ${own.length} inputs read as the policy's log-probs (want one: \`logp\`, or one declared input documented "under the current policy")`);
  return own[0]!.name;
}

/** A random valid batch for the pipeline (see the file's doc for what is fed and how). */
export function pipelineBatch(p: CompiledPipeline | IrGraph, spec: PipelineBatchSpec): PipelineBatch {
  const g = graphOf(p);
  const shape = { ...defaultShape(g), ...(spec.B !== undefined ? { B: spec.B } : {}), ...(spec.G !== undefined ? { G: spec.G } : {}), ...(spec.T !== undefined ? { T: spec.T } : {}) };
  const ref = makeBatch({ ...spec, ...shape });
  const overridden = new Set(Object.keys(spec.feeds ?? {}));
  const { entries, sizes } = feedsOn(g, ref, spec.seed, spec.dims);
  const all = entries.filter((e) => !overridden.has(e.name));
  for (const [name, v] of Object.entries(spec.feeds ?? {})) {
    all.push({ name, tensor: typeof v === 'number' ? { shape: [], data: Float64Array.of(v) } : v, span: here });
  }
  return { ref, entries: all, set: { ...paramSets(g.meta.params, ref.G), ...spec.set }, sizes };
}

/**
 * The feeds a graph reads, on a given batch of standard columns `ref` (B, G, T from it): the
 * standard columns themselves, everything else generated from `seed` as the file's doc says.
 */
export function feedsOn(p: CompiledPipeline | IrGraph, ref: RefBatch, seed: number, dims: Readonly<Record<string, number>> = {}): { entries: BatchEntry[]; sizes: Map<string, number> } {
  const g = graphOf(p);
  const sizes = new Map<string, number>([['B', ref.B], ['G', ref.G], ['T', ref.T]]);
  const sizeOf = (d: string): number => {
    if (!sizes.has(d)) sizes.set(d, dims[d] ?? Math.max(DEFAULT_DIM_SIZE, takesAlong(g, d) + 1));
    return sizes.get(d)!;
  };
  for (const s of g.meta.state) if (s.type.kind === 'tensor') s.type.dims.forEach(sizeOf);
  const r = rng(seed * 7919 + 17);
  const entries: BatchEntry[] = [];
  for (const leaf of leafFeeds(g)) {
    const shape = leaf.type.dims.map(sizeOf);
    entries.push({ name: leaf.name, tensor: { shape, data: valuesFor(g, leaf, shape, ref, r) }, span: here });
  }
  return { entries, sizes };
}

/** The batch as the reference interpreter's inputs (NamedArrays by feed name, dims from the graph). */
export function referenceInputs(p: CompiledPipeline | IrGraph, b: PipelineBatch): Record<string, NamedArray> {
  const types = new Map(leafFeeds(p).map((l) => [l.name, l.type]));
  const out: Record<string, NamedArray> = {};
  for (const e of b.entries) {
    const t = types.get(e.name);
    if (t !== undefined) out[e.name] = named(t.dims, e.tensor.shape, e.tensor.data);
  }
  return out;
}

/** The entries as the JSON object of an `rlp eval --batch` file. */
export function batchJson(b: PipelineBatch): Record<string, { shape: number[]; data: number[] }> {
  return Object.fromEntries(b.entries.map((e) => [e.name, { shape: [...e.tensor.shape], data: Array.from(e.tensor.data) }]));
}

function paramSets(params: readonly IrParam[], G: number): Record<string, string> {
  const set: Record<string, string> = {};
  for (const q of params) {
    if (q.name === 'group' && (q.type === 'int' || q.type === 'float')) set[q.name] = String(G);
    else if (q.default === null && (q.type === 'int' || q.type === 'float')) set[q.name] = String(middle(q));
    else if (q.default === null && q.type === 'bool') set[q.name] = 'false';
    else if (q.default === null && q.type === 'choice' && q.choices !== undefined) set[q.name] = q.choices[0]!;
  }
  return set;
}

function middle(q: IrParam): number {
  const lo = q.range?.lo ?? -Infinity;
  const hi = q.range?.hi ?? Infinity;
  const m = Number.isFinite(lo) && Number.isFinite(hi) ? (lo + hi) / 2 : Number.isFinite(lo) ? lo + 1 : Number.isFinite(hi) ? hi - 1 : 1;
  return q.type === 'int' ? Math.round(m) : m;
}

/** Uniform in (0.05, 0.95): inside [0, 1] (probabilities, rewards, weights), away from its ends (logs, lgamma stay finite). */
const unit = (r: () => number): number => 0.05 + 0.9 * r();

const STANDARD_COLUMNS = ['logp', 'old_logp', 'ref_logp', 'mask', 'reward', 'greedy_reward', 'token_reward', 'old_values', 'values', 'value_start', 'value_end'] as const;

function valuesFor(g: IrGraph, leaf: { name: string; type: TensorType; reward: boolean }, shape: readonly number[], ref: RefBatch, r: () => number): Float64Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const f = Math.fround;
  const { name, type } = leaf;
  const tokens = type.dims.length === 3 && type.dims[0] === 'B' && type.dims[1] === 'G' && type.dims[2] === 'T';
  const onCompletion = (fn: (k: number) => number): Float64Array => Float64Array.from({ length: n }, (_, k) => (ref.mask[k] === 1 ? f(fn(k)) : PAD));
  if (leaf.reward) {
    const fn = name.slice('reward_fn.'.length);
    if (fn === 'correct' && n === ref.reward.length) return Float64Array.from(ref.reward);
    if (fn === 'length') return Float64Array.from({ length: n }, () => 1 + Math.floor(200 * r()));
    if (fn === 'format') return Float64Array.from({ length: n }, () => (r() < 0.7 ? 1 : 0));
    return Float64Array.from({ length: n }, () => f(unit(r)));
  }
  const declared = g.meta.inputs?.find((i) => i.name === name);
  if (declared === undefined && (STANDARD_COLUMNS as readonly string[]).includes(name) && ref[name as (typeof STANDARD_COLUMNS)[number]].length === n) {
    return Float64Array.from(ref[name as (typeof STANDARD_COLUMNS)[number]]);
  }
  if (declared === undefined && standardInput(name) !== undefined) {
    switch (name) {
      case 'rollout_logp': return onCompletion((k) => ref.old_logp[k]! + 0.5 * (2 * r() - 1));
      case 'entropy': return onCompletion(() => 3 * r());
      case 'forced': return Float64Array.from({ length: n }, (_, k) => (ref.mask[k] === 0 && r() < 0.3 ? 1 : 0));
      case 'step': return Float64Array.of(3);
      case 'total_steps': return Float64Array.of(10);
      case 'variant': case 'hint_level': return Float64Array.from({ length: n }, () => Math.floor(4 * r()));
      case 'label': return Float64Array.from({ length: n }, () => (r() < 0.5 ? 0 : 1));
      default: break;
    }
  }
  const doc = (declared?.doc ?? standardInput(name)?.doc ?? '').toLowerCase();
  if (type.dtype === 'bool') return Float64Array.from({ length: n }, () => (r() < 0.5 ? 0 : 1));
  if (type.dtype === 'i32') return Float64Array.from({ length: n }, () => Math.floor(4 * r()));
  if (doc.startsWith('one-hot') && shape.length > 0) {
    const last = shape[shape.length - 1]!;
    const rows = n / last;
    const out = new Float64Array(n);
    for (let i = 0; i < rows; i++) out[i * last + Math.floor(r() * last)] = 1;
    return out;
  }
  if (doc.startsWith('number of')) return Float64Array.from({ length: n }, () => Math.floor(5 * r()));
  if (tokens && (name.endsWith('logp') || doc.includes('log-probabilit'))) return onCompletion(() => -0.05 - 2 * r());
  if (tokens) return onCompletion(() => unit(r));
  return Float64Array.from({ length: n }, () => f(unit(r)));
}
