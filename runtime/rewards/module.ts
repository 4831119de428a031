/**
 * User reward modules (`--rewards my_rewards.mjs`): every exported function is a reward function
 * named by its export, called with TRL's convention. The module runs in a worker thread (see
 * sandbox.ts) so that a call that never returns is cut off after a timeout. Results are checked:
 * one finite float32 value per completion, or null ("no score"), or `{score, ...extras}`; a
 * function that throws, times out, returns NaN, an infinity or the wrong count stops the run with
 * its name and the completion.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RewardArgs, RewardFn, RewardValue } from './builtins.js';
import { DEFAULT_REWARD_TIMEOUT_MS, RewardSandbox, SandboxFailure } from './sandbox.js';

/** The largest finite float32: rewards are computed in float32 on the device. */
const F32_MAX = 3.4028234663852886e38;

/** A reward function that failed, with where it came from. */
export class RewardError extends Error {
  constructor(
    readonly fn: string,
    readonly source: string,
    message: string,
  ) {
    super(`reward function \`${fn}\` (${source}) ${message}`);
    this.name = 'RewardError';
  }
}

/** Scores of one reward function: one per completion (NaN for null, "no score"), and extras to log. */
export interface Scored {
  readonly scores: Float64Array;
  readonly extras: Readonly<Record<string, number[]>>;
}

/** How long a reward function (and the module's loading) may take. */
export interface RewardModuleOptions {
  /** Milliseconds a call may take; default 60 s. */
  readonly timeoutMs?: number;
  /** Milliseconds the module's loading may take; default the larger of 60 s and timeoutMs. */
  readonly loadTimeoutMs?: number;
}

/**
 * Load a module's exported functions as reward functions (the default export is named `reward`).
 * The module runs in its own worker thread; each returned function calls into it with the timeout
 * and carries the columns it declares (`fn.columns`).
 */
export async function loadRewardModule(path: string, opts: RewardModuleOptions = {}): Promise<Map<string, RewardFn>> {
  let box: RewardSandbox;
  try {
    const timeout = opts.timeoutMs ?? DEFAULT_REWARD_TIMEOUT_MS;
    box = await RewardSandbox.load(pathToFileURL(resolve(path)).href, timeout, opts.loadTimeoutMs ?? Math.max(timeout, DEFAULT_REWARD_TIMEOUT_MS));
  } catch (e) {
    throw new RewardError('*', path, `could not be loaded: ${(e as Error).message}`);
  }
  const fns = new Map<string, RewardFn>();
  for (const x of box.exports) {
    const fn = ((args: RewardArgs) => box.call(x.name, args)) as RewardFn & { columns: readonly string[]; source: string };
    fn.columns = x.columns;
    fn.source = x.source;
    fns.set(x.name === 'default' ? 'reward' : x.name, fn);
  }
  if (fns.size === 0) throw new RewardError('*', path, 'exports no function');
  return fns;
}

/** A thrown value as a message: an Error's message, a string as is, anything else as JSON (`null`). */
function thrownMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

/** A prompt, shortened for a message. */
function shortPrompt(p: unknown): string {
  const s = String(p);
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + '...' : s);
}

/** Arguments every reward function gets besides the dataset's columns. */
const STANDARD_ARGS = new Set(['prompts', 'completions']);

/**
 * The dataset columns a module's reward function reads, as it declares them: `fn.columns = ['solution']`,
 * and the names it destructures from its argument, `({ completions, solution }) => ...` (both
 * checked at compile time against the data). Neither: none are checked.
 */
export function declaredColumns(fn: RewardFn): readonly string[] {
  const c = (fn as { columns?: unknown }).columns;
  const listed = Array.isArray(c) ? c.filter((x): x is string => typeof x === 'string') : [];
  return [...new Set([...listed, ...destructuredNames(fn)])];
}

/** The top-level keys a function destructures from its first parameter: `({ a, b: x, c = 1, ...rest })` gives a, b, c. */
export function destructuredNames(fn: (...args: never[]) => unknown): string[] {
  // A sandboxed module's function is a proxy that carries the real function's text as `source`.
  const own = (fn as { source?: unknown }).source;
  const src = typeof own === 'string' ? own : Function.prototype.toString.call(fn);
  const m = /^[^(]*?\(\s*\{/.exec(src);
  if (m === null) return [];
  const text = src.slice(m[0].length);
  const keys: string[] = [];
  let depth = 0;
  let entry = '';
  for (const ch of text) {
    if (depth === 0 && (ch === ',' || ch === '}')) {
      const key = /^\s*(?:(["'])(.*?)\1|([A-Za-z_$][\w$]*))/.exec(entry);
      if (key !== null && !entry.trim().startsWith('...')) keys.push(key[2] ?? key[3]!);
      entry = '';
      if (ch === '}') break;
      continue;
    }
    if ('{[('.includes(ch)) depth++;
    else if ('}])'.includes(ch)) depth--;
    entry += ch;
  }
  return keys.filter((k) => !STANDARD_ARGS.has(k));
}

/** Call a reward function and check what it returns. */
export async function score(name: string, source: string, fn: RewardFn, args: RewardArgs): Promise<Scored> {
  let out: readonly RewardValue[];
  try {
    out = await fn(args);
  } catch (e) {
    if (e instanceof SandboxFailure && e.kind === 'timeout') throw new RewardError(name, source, e.message);
    throw new RewardError(name, source, `threw: ${thrownMessage(e)}`);
  }
  const n = args.completions.length;
  if (!Array.isArray(out)) throw new RewardError(name, source, `returned ${typeof out}, not an array of ${n} values`);
  if (out.length !== n) throw new RewardError(name, source, `returned ${out.length} values for ${n} completions`);
  const scores = new Float64Array(n);
  const extras: Record<string, number[]> = {};
  const where = (i: number): string => `completion ${i}` + (args.prompts?.[i] !== undefined ? ` (prompt ${shortPrompt(args.prompts[i])})` : '');
  const checked = (v: number, i: number): number => {
    if (Number.isNaN(v)) throw new RewardError(name, source, `returned NaN for ${where(i)}: NaN is not a score; return null for "no score"`);
    if (!Number.isFinite(v)) throw new RewardError(name, source, `returned ${v} for ${where(i)}: rewards must be finite`);
    if (Math.abs(v) > F32_MAX) throw new RewardError(name, source, `returned ${v} for ${where(i)}: beyond float32's range (±3.4e38), in which rewards are computed`);
    return v;
  };
  out.forEach((v, i) => {
    if (v === null || v === undefined) scores[i] = NaN;
    else if (typeof v === 'number') scores[i] = checked(v, i);
    else if (typeof v === 'object' && 'score' in v && (typeof v.score === 'number' || v.score === null)) {
      scores[i] = v.score === null ? NaN : checked(v.score, i);
      for (const [k, x] of Object.entries(v)) if (k !== 'score' && typeof x === 'number') (extras[k] ??= []).push(x);
    } else throw new RewardError(name, source, `returned ${JSON.stringify(v)} for ${where(i)}: expected a number, null or {score, ...}`);
  });
  return { scores, extras };
}
