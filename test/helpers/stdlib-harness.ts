/** Running a stdlib pipeline on a reference batch in-process (cpu), and comparing with a reference. */
import { readdirSync } from 'node:fs';
import { compileFiles, type CompiledPipeline } from '../../compiler/compile.js';
import { makeSource, span } from '../../grammar/source.js';
import { useBackend } from '../../runtime/backends/index.js';
import type { BatchEntry } from '../../runtime/batch/read.js';
import { evaluate, type EvalOutputs } from '../../runtime/eval/evaluate.js';
import { validateBatch } from '../../runtime/eval/validate.js';
import type { RefBatch, Reference } from './references.js';
import { rng } from './random-batch.js';

const here = span(makeSource('batch', ''), 0, 0);
const cache = new Map<string, CompiledPipeline>();

/** The compiled stdlib pipeline `name`, from whichever stdlib file declares it. */
export function stdlibPipeline(name: string): CompiledPipeline {
  if (cache.size === 0) {
    const files = readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).map((f) => `stdlib/${f}`);
    for (const p of compileFiles(files).pipelines) cache.set(p.name, p);
  }
  const hit = cache.get(name);
  if (hit === undefined) throw new Error(`no stdlib pipeline ${name}`);
  return hit;
}

/** Options for a generated batch. */
export interface BatchSpec {
  readonly B: number;
  readonly G: number;
  readonly T: number;
  readonly seed: number;
  readonly lengths?: readonly number[];
  readonly reward?: (r: () => number, i: number) => number;
  /** Size of the log-ratios logp - old_logp and logp - ref_logp (default 0.3). */
  readonly spread?: number;
  /** With a spread above 1: make every log-ratio exactly +-spread (default: within 10% below it). */
  readonly exact?: boolean;
}

/** A batch with float32-exact values and garbage in the padding. */
export function makeBatch(s: BatchSpec): RefBatch {
  const r = rng(s.seed);
  const f = Math.fround;
  const n = s.B * s.G * s.T;
  const lengths = s.lengths ?? Array.from({ length: s.B * s.G }, () => 1 + Math.floor(r() * s.T));
  const mask = Float64Array.from({ length: n }, (_, i) => ((i % s.T) < lengths[Math.floor(i / s.T)]! ? 1 : 0));
  const spread = s.spread ?? 0.3;
  const pad = (v: number, i: number): number => (mask[i] === 1 ? f(v) : 1e4);
  const logp = Float64Array.from({ length: n }, (_, i) => pad(-0.05 - 2 * r(), i));
  const sign = (): number => (r() < 0.5 ? -1 : 1);
  // Extreme spreads keep a little jitter, so sums of log-ratios do not tie (sorting is not smooth at ties).
  const amount = (): number => spread * (spread > 1 ? (s.exact === true ? 1 : 0.9 + 0.1 * r()) : r());
  const old_logp = logp.map((v, i) => pad(v - sign() * amount(), i));
  const ref_logp = logp.map((v, i) => pad(v - sign() * amount(), i));
  const reward = Float64Array.from({ length: s.B * s.G }, (_, i) => f(s.reward !== undefined ? s.reward(r, i) : r() < 0.5 ? 0 : 1));
  const greedy_reward = Float64Array.from({ length: s.B }, () => f(r()));
  // Token rewards: small shaping on every token plus an outcome on the last one.
  const token_reward = Float64Array.from({ length: n }, (_, i) => {
    const L = lengths[Math.floor(i / s.T)]!;
    return pad(0.1 * (r() - 0.5) + ((i % s.T) === L - 1 ? reward[Math.floor(i / s.T)]! : 0), i);
  });
  const old_values = Float64Array.from({ length: n }, (_, i) => pad(2 * r() - 1, i));
  const values = old_values.map((v, i) => pad(v + 0.4 * (r() - 0.5), i));
  const value_start = Float64Array.from({ length: n }, (_, i) => pad(r(), i));
  const value_end = Float64Array.from({ length: n }, (_, i) => pad(r(), i));
  return { B: s.B, G: s.G, T: s.T, logp, old_logp, ref_logp, mask, reward, greedy_reward, token_reward, old_values, values, value_start, value_end };
}

/** Feeds for the inputs the pipeline reads (plus `extra` bindings, e.g. global denominators). */
export function entriesFor(p: CompiledPipeline, b: RefBatch, extra: Readonly<Record<string, number | { shape: number[]; data: Float64Array }>> = {}): BatchEntry[] {
  const shapes: Record<string, number[]> = { reward: [b.B, b.G], greedy_reward: [b.B] };
  const names = ['logp', 'old_logp', 'ref_logp', 'mask', 'reward', 'greedy_reward', 'token_reward', 'old_values', 'values', 'value_start', 'value_end'] as const;
  const reads = new Set(p.ir.ordered().filter((n) => n.op === 'input' || n.op === 'reward_fn').map((n) => (n.op === 'input' ? String(n.attrs['name']) : 'reward')));
  const out: BatchEntry[] = [];
  for (const name of names) {
    if (!reads.has(name)) continue;
    out.push({ name, tensor: { shape: shapes[name] ?? [b.B, b.G, b.T], data: b[name] }, span: here });
  }
  for (const [name, v] of Object.entries(extra)) {
    out.push({ name, tensor: typeof v === 'number' ? { shape: [], data: Float64Array.of(v) } : v, span: here });
  }
  return out;
}

/** Evaluate a pipeline on a batch on the cpu backend, with grad.logp. */
export async function runPipeline(
  p: CompiledPipeline,
  b: RefBatch,
  extra: Readonly<Record<string, number | { shape: number[]; data: Float64Array }>> = {},
  set: Readonly<Record<string, string>> = {},
): Promise<EvalOutputs> {
  const v = validateBatch(p.ir, entriesFor(p, b, extra), { set, grad: ['logp'], allowNonfinite: false, fileSpan: here });
  if (v.valid === null) throw new Error(v.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '));
  const { tf } = await useBackend('cpu');
  return evaluate(tf, 'cpu', v.valid, ['logp']);
}

/** Central finite differences of the reference loss in logp, at completion tokens (0 on padding). */
export function referenceGrad(ref: Reference, b: RefBatch): Float64Array {
  const g = new Float64Array(b.logp.length);
  for (let k = 0; k < b.logp.length; k++) {
    if (b.mask[k] === 0) continue;
    const h = 1e-6 * Math.max(1, Math.abs(b.logp[k]!));
    const up = Float64Array.from(b.logp);
    const dn = Float64Array.from(b.logp);
    up[k]! += h;
    dn[k]! -= h;
    g[k] = (ref(b, up).loss - ref(b, dn).loss) / (2 * h);
  }
  return g;
}

/** a == b (equal infinities too) or |a - b| <= tol * max(|b|, floor * max|b over the tensor|) + slack, elementwise; returns the first miss. */
export function firstMiss(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, floor = 1e-2, slack = 0): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  let maxAbs = 0;
  for (let i = 0; i < b.length; i++) maxAbs = Math.max(maxAbs, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) {
    const scale = Math.max(Math.abs(b[i]!), floor * maxAbs, 1e-12);
    if (a[i] !== b[i] && !(Math.abs(a[i]! - b[i]!) <= tol * scale + slack)) return `[${i}] got ${a[i]}, want ${b[i]} (tol ${tol} x ${scale.toExponential(2)})`;
  }
  return null;
}

/** The batch restricted to prompts [from, to) (a micro-batch split along B). */
export function sliceBatch(b: RefBatch, from: number, to: number): RefBatch {
  const tok = (x: Float64Array): Float64Array => x.slice(from * b.G * b.T, to * b.G * b.T);
  return {
    ...b,
    B: to - from,
    logp: tok(b.logp), old_logp: tok(b.old_logp), ref_logp: tok(b.ref_logp), mask: tok(b.mask),
    token_reward: tok(b.token_reward), old_values: tok(b.old_values), values: tok(b.values), value_start: tok(b.value_start), value_end: tok(b.value_end),
    reward: b.reward.slice(from * b.G, to * b.G),
    greedy_reward: b.greedy_reward.slice(from, to),
  };
}

/** The batch with its samples permuted inside each group: new sample g is old sample perm[g]. */
export function permuteGroups(b: RefBatch, perm: readonly number[]): RefBatch {
  const seq = (x: Float64Array): Float64Array => Float64Array.from(x, (_, i) => {
    const bi = Math.floor(i / b.G);
    return x[bi * b.G + perm[i % b.G]!]!;
  });
  const tok = (x: Float64Array): Float64Array => Float64Array.from(x, (_, i) => {
    const s = Math.floor(i / b.T);
    const bi = Math.floor(s / b.G);
    return x[(bi * b.G + perm[s % b.G]!) * b.T + (i % b.T)]!;
  });
  return {
    ...b,
    logp: tok(b.logp), old_logp: tok(b.old_logp), ref_logp: tok(b.ref_logp), mask: tok(b.mask),
    token_reward: tok(b.token_reward), old_values: tok(b.old_values), values: tok(b.values), value_start: tok(b.value_start), value_end: tok(b.value_end),
    reward: seq(b.reward),
  };
}

/** The batch with `extra` more token positions, all padding (mask 0, garbage values). */
export function padMore(b: RefBatch, extra: number): RefBatch {
  const T = b.T + extra;
  const tok = (x: Float64Array, fill: number): Float64Array => Float64Array.from({ length: b.B * b.G * T }, (_, i) => {
    const t = i % T;
    return t < b.T ? x[Math.floor(i / T) * b.T + t]! : fill;
  });
  return {
    ...b,
    T,
    logp: tok(b.logp, -7), old_logp: tok(b.old_logp, 5), ref_logp: tok(b.ref_logp, 3), mask: tok(b.mask, 0),
    token_reward: tok(b.token_reward, 9), old_values: tok(b.old_values, -4), values: tok(b.values, 2), value_start: tok(b.value_start, 3), value_end: tok(b.value_end, -3),
  };
}

const withSet = new Map<string, CompiledPipeline>();

/** The stdlib pipeline `name` (file stdlib/NAME.rlp) compiled with `set` (choice params are specialized at compile time). */
export function pipelineWith(name: string, set: Readonly<Record<string, string>>): CompiledPipeline {
  const key = `${name} ${JSON.stringify(set)}`;
  const hit = withSet.get(key);
  if (hit !== undefined) return hit;
  const r = compileFiles([`stdlib/${name}.rlp`], { set });
  const p = r.pipelines.find((x) => x.name === name);
  if (p === undefined) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '));
  withSet.set(key, p);
  return p;
}
