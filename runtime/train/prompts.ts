/** Where a run's prompt rows come from: a JSONL dataset (streamed from a cursor) or a built-in task. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readRows, validateDataset } from '../data/jsonl.js';
import { TrainError, type TrainOptions } from './options.js';
import { Rng } from './rng.js';

/** The prompt rows of a step, from the task or the dataset. */
export interface PromptSource {
  take(count: number): Promise<Record<string, unknown>[]>;
  cursor: number;
  readonly fingerprint: string;
}
/** The prompt source of a run, positioned at `cursor`; dataset rows are validated up front (with the columns `needed`). */
export async function promptSource(o: TrainOptions, cursor: number, needed: readonly string[], preference: boolean): Promise<PromptSource> {
  if (o.data !== null) {
    const info = await validateDataset(o.data);
    if (!preference && info.kind !== 'prompt') throw new TrainError(`${o.data} holds preference rows; \`rlp run ${o.program.name}\` samples completions and needs prompt rows`);
    if (preference && info.kind !== 'preference') throw new TrainError(`${o.data} holds prompt rows; \`${o.program.name}\` has no sample stage and trains on preference rows {"prompt", "chosen", "rejected"}`);
    if (needed.length > 0) await validateDataset(o.data, needed);
    const rows = readRows(o.data, cursor);
    const src: PromptSource = {
      cursor,
      fingerprint: createHash('sha256').update(readFileSync(o.data)).digest('hex'),
      async take(count) {
        const out: Record<string, unknown>[] = [];
        for (let i = 0; i < count; i++) out.push({ ...(await rows.next()).value! });
        src.cursor += count;
        return out;
      },
    };
    return src;
  }
  const task = o.task!;
  const size = o.taskSize ?? 0;
  const src: PromptSource = {
    cursor,
    fingerprint: `task:${task.name}:seed${o.seed}` + (size > 0 ? `:size${size}` : ''),
    async take(count) {
      const out = Array.from({ length: count }, (_, i) => {
        const k = taskIndex(src.cursor + i, size);
        const row = task.row(o.seed, k);
        if (preference) return { prompt: row.prompt, chosen: row.answer, rejected: wrongAnswer(row.answer, o.seed, k) };
        return { prompt: row.prompt, answer: row.answer, format: task.format.source };
      });
      src.cursor += count;
      return out;
    },
  };
  return src;
}

/** The row of a built-in task that draw number `i` reads: the task's stream, cycled over its first `size` rows (0: not cycled). */
export function taskIndex(i: number, size: number): number {
  return size > 0 ? i % size : i;
}

/** A plausible wrong answer: the right one with one digit changed (the built-in preference task). */
export function wrongAnswer(answer: string, seed: number, i: number): string {
  const r = new Rng(seed * 7919 + i * 104729 + 1);
  const k = Math.floor(r.next() * answer.length);
  const d = Number(answer[k]);
  const other = Number.isNaN(d) ? '0' : String((d + 1 + Math.floor(r.next() * 9)) % 10);
  return answer.slice(0, k) + other + answer.slice(k + 1);
}
