/**
 * Built-in reward functions, with TRL's calling convention: one object holding `prompts`,
 * `completions` and every dataset column by name (arrays aligned with the completions); one number
 * (or null: unscorable) per completion out.
 */

/** The argument of a reward function: prompts, completions and the dataset's columns. */
export type RewardArgs = Readonly<Record<string, readonly unknown[]>> & {
  readonly prompts: readonly string[];
  readonly completions: readonly string[];
};

/** What a reward function returns per completion: a score, null, or a score with extras to log. */
export type RewardValue = number | null | { readonly score: number | null; readonly [extra: string]: unknown };

/** A reward function. */
export type RewardFn = (args: RewardArgs) => readonly RewardValue[] | Promise<readonly RewardValue[]>;

/** A built-in reward: its function and the columns it needs. */
export interface BuiltinReward {
  readonly name: string;
  readonly summary: string;
  readonly columns: readonly string[];
  readonly fn: RewardFn;
}

/** 1 when the completion (trimmed) equals the `answer` column, else 0. */
export const correct: BuiltinReward = {
  name: 'correct',
  summary: '1 when the completion, trimmed, equals the `answer` column, else 0',
  columns: ['answer'],
  fn: ({ completions, answer }) => completions.map((c, i) => (c.trim() === String(answer?.[i] ?? '').trim() ? 1 : 0)),
};

/** 1 when the completion matches the `format` column (a regex source), else 0. */
export const format: BuiltinReward = {
  name: 'format',
  summary: "1 when the completion matches the task's answer format (the `format` column, a regex), else 0",
  columns: ['format'],
  fn: ({ completions, format: f }) => completions.map((c, i) => {
    const src = f?.[i];
    return typeof src === 'string' && new RegExp(src).test(c.trim()) ? 1 : 0;
  }),
};

/** The completion's length in characters. */
export const length: BuiltinReward = {
  name: 'length',
  summary: 'the number of characters of the completion',
  columns: [],
  fn: ({ completions }) => completions.map((c) => c.length),
};

/** Every built-in reward. */
export const BUILTIN_REWARD_FNS: readonly BuiltinReward[] = Object.freeze([correct, format, length]);
