/**
 * Built-in reward functions, with TRL's calling convention: completions and the dataset's named
 * columns in, one number (or null: unscorable) per completion out.
 */

/** A reward function: completions plus columns (each an array aligned with the completions). */
export type RewardFn = (completions: readonly string[], columns: Readonly<Record<string, readonly unknown[]>>) => (number | null)[];

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
  fn: (completions, columns) => completions.map((c, i) => (c.trim() === String(columns['answer']?.[i] ?? '').trim() ? 1 : 0)),
};

/** 1 when the completion matches the `format` column (a regex source), else 0. */
export const format: BuiltinReward = {
  name: 'format',
  summary: "1 when the completion matches the task's answer format (the `format` column, a regex), else 0",
  columns: ['format'],
  fn: (completions, columns) => completions.map((c, i) => {
    const src = columns['format']?.[i];
    return typeof src === 'string' && new RegExp(src).test(c.trim()) ? 1 : 0;
  }),
};

/** The completion's length in characters. */
export const length: BuiltinReward = {
  name: 'length',
  summary: 'the number of characters of the completion',
  columns: [],
  fn: (completions) => completions.map((c) => c.length),
};

/** Every built-in reward. */
export const BUILTIN_REWARD_FNS: readonly BuiltinReward[] = Object.freeze([correct, format, length]);
