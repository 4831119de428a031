/**
 * Built-in verifiable tasks: each draws prompts with known answers from a seed, so `rlp run`
 * works with no data. Rows use TRL's layout: a `prompt` plus columns (here `answer`).
 */

/** One dataset row. */
export interface TaskRow {
  readonly prompt: string;
  readonly answer: string;
}

/** A built-in task. */
export interface Task {
  readonly name: string;
  readonly summary: string;
  /** The regex a well-formed completion matches (the `format` reward). */
  readonly format: RegExp;
  /** Draw row number `i` of the task's stream for `seed` (deterministic). */
  row(seed: number, i: number): TaskRow;
}

function mix(seed: number, i: number): () => number {
  let a = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Two-digit additions: "12+35=" -> "47". */
export const arithmetic: Task = {
  name: 'arithmetic',
  summary: 'add two numbers below 100: "12+35=" -> "47"',
  format: /^\d{1,3}$/,
  row(seed, i) {
    const r = mix(seed, i);
    const a = Math.floor(r() * 100);
    const b = Math.floor(r() * 100);
    return { prompt: `${a}+${b}=`, answer: String(a + b) };
  },
};

/** Sorting digits: "sort:3141=" -> "1134". */
export const sortDigits: Task = {
  name: 'sort',
  summary: 'sort 3 to 6 digits: "sort:3141=" -> "1134"',
  format: /^\d{3,6}$/,
  row(seed, i) {
    const r = mix(seed, i);
    const n = 3 + Math.floor(r() * 4);
    const digits = Array.from({ length: n }, () => Math.floor(r() * 10));
    return { prompt: `sort:${digits.join('')}=`, answer: [...digits].sort((x, y) => x - y).join('') };
  },
};

/** Every built-in task. */
export const TASKS: readonly Task[] = Object.freeze([arithmetic, sortDigits]);

/** The task of this name, or undefined. */
export function taskByName(name: string): Task | undefined {
  return TASKS.find((t) => t.name === name);
}
