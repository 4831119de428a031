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

/**
 * The dataset columns a module's reward function reads, as it declares them: `fn.columns = ['solution']`
 * (checked at compile time against the data). Undeclared: none are checked.
 */
export function declaredColumns(fn: RewardFn): readonly string[] {
  const c = (fn as { columns?: unknown }).columns;
  return Array.isArray(c) ? c.filter((x): x is string => typeof x === 'string') : [];
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
