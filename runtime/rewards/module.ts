/**
 * User reward modules (`--rewards my_rewards.mjs`): every exported function is a reward function
 * named by its export, called with TRL's convention. Results are checked: one value per
 * completion, each a number, null or `{score, ...extras}`; a function that throws or returns the
 * wrong count stops the run with its name.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RewardArgs, RewardFn, RewardValue } from './builtins.js';

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

/** Scores of one reward function: one per completion (NaN for null), and extras to log. */
export interface Scored {
  readonly scores: Float64Array;
  readonly extras: Readonly<Record<string, number[]>>;
}

/** Load a module's exported functions as reward functions. */
export async function loadRewardModule(path: string): Promise<Map<string, RewardFn>> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new RewardError('*', path, `could not be loaded: ${(e as Error).message}`);
  }
  const fns = new Map<string, RewardFn>();
  for (const [name, v] of Object.entries(mod)) if (typeof v === 'function') fns.set(name === 'default' ? 'reward' : name, v as RewardFn);
  if (fns.size === 0) throw new RewardError('*', path, 'exports no function');
  return fns;
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
  const m = /^[^(]*?\(\s*\{/.exec(Function.prototype.toString.call(fn));
  if (m === null) return [];
  const text = Function.prototype.toString.call(fn).slice(m[0].length);
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
    throw new RewardError(name, source, `threw: ${(e as Error).message}`);
  }
  const n = args.completions.length;
  if (!Array.isArray(out)) throw new RewardError(name, source, `returned ${typeof out}, not an array of ${n} values`);
  if (out.length !== n) throw new RewardError(name, source, `returned ${out.length} values for ${n} completions`);
  const scores = new Float64Array(n);
  const extras: Record<string, number[]> = {};
  out.forEach((v, i) => {
    if (v === null || v === undefined) scores[i] = NaN;
    else if (typeof v === 'number') scores[i] = v;
    else if (typeof v === 'object' && 'score' in v && (typeof v.score === 'number' || v.score === null)) {
      scores[i] = v.score ?? NaN;
      for (const [k, x] of Object.entries(v)) if (k !== 'score' && typeof x === 'number') (extras[k] ??= []).push(x);
    } else throw new RewardError(name, source, `returned ${JSON.stringify(v)} for completion ${i}: expected a number, null or {score, ...}`);
  });
  return { scores, extras };
}
