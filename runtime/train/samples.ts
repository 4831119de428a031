/**
 * Sample completions of a run, for its report: `DIR/samples.jsonl`, one line per completion of the
 * first few groups of each step, with its reward(s) and advantage. A resumed run appends the steps
 * it redoes again; readers keep the last lines of each step.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompiledProgram } from '../exec/program.js';
import type { Tokenizer } from '../policy/tokenizer.js';
import type { Group } from './collect.js';

/** Groups recorded per step. */
export const SAMPLE_GROUPS = 2;

/** One recorded completion. */
export interface SampleRow {
  readonly step: number;
  readonly group: number;
  readonly prompt: string;
  readonly completion: string;
  /** The reward stage's value (for preference pipelines: the implicit reward beta x log-ratio). */
  readonly reward: number;
  /** The advantage (its mean over the completion's tokens for a token-level advantage), or null. */
  readonly advantage: number | null;
  /** Each reward function's score, by name. */
  readonly rewards: Readonly<Record<string, number>>;
  /** For preference pairs: `chosen` or `rejected`. */
  readonly role?: string;
}

/** An advantage as the loss saw it: flat values and the dims they are over. */
export interface AdvantageValues {
  readonly values: Float32Array;
  readonly dims: readonly string[];
}

/** The advantage of completion (b, g): direct for [B,G], the masked mean for [B,G,T], per prompt for [B]. */
export function completionAdvantage(a: AdvantageValues | null, b: number, g: number, G: number, R: number, mask: Float32Array): number | null {
  if (a === null) return null;
  const d = a.dims.join(',');
  if (d === 'B,G') return a.values[b * G + g] ?? null;
  if (d === 'B') return a.values[b] ?? null;
  if (d === 'B,G,T') {
    let s = 0;
    let n = 0;
    for (let t = 0; t < R; t++) {
      const i = (b * G + g) * R + t;
      if (mask[i] !== 0) {
        s += a.values[i]!;
        n++;
      }
    }
    return n > 0 ? s / n : null;
  }
  return null;
}

/** Append rows to `DIR/samples.jsonl`. */
export function appendSamples(dir: string, rows: readonly SampleRow[]): void {
  if (rows.length > 0) appendFileSync(join(dir, 'samples.jsonl'), rows.map((r) => JSON.stringify(r) + '\n').join(''));
}

/** The advantage a step's loss used (the advantage stage's last binding), when batch-level. */
export function stepAdvantage(program: CompiledProgram, shared: Readonly<Record<string, Float32Array>>): AdvantageValues | null {
  const name = program.metrics.advantage;
  const values = name === null ? undefined : shared[name];
  const out = name === null ? undefined : program.output(name);
  return values === undefined || out === undefined || out.dtype === null ? null : { values, dims: out.dims };
}

/** Rows for the first SAMPLE_GROUPS groups of a sampled step. `reward` is per completion [B*G]. */
export function groupSamples(
  step: number, groups: readonly Group[], tok: Tokenizer, reward: Float32Array, advantage: AdvantageValues | null, mask: Float32Array, G: number, R: number,
): SampleRow[] {
  return groups.slice(0, SAMPLE_GROUPS).flatMap((x, b) => Array.from({ length: G }, (_, gi) => ({
    step,
    group: b,
    prompt: String(x.row['prompt']),
    completion: tok.decode(x.sample.ids.subarray(gi * x.sample.R, gi * x.sample.R + x.sample.lengths[gi]!)),
    reward: reward[b * G + gi] ?? NaN,
    advantage: completionAdvantage(advantage, b, gi, G, R, mask),
    rewards: Object.fromEntries(Object.entries(x.scores).map(([k, v]) => [k, v[gi]!])),
  })));
}

/** Rows for the first SAMPLE_GROUPS pairs of a preference step: chosen and rejected with their implicit rewards. */
export function pairSamples(step: number, rows: readonly Record<string, unknown>[], implicit: (s: number) => number): SampleRow[] {
  return rows.slice(0, SAMPLE_GROUPS).flatMap((r, b) => (['chosen', 'rejected'] as const).map((role, gi) => ({
    step, group: b, prompt: String(r['prompt']), completion: String(r[role]), reward: implicit(b * 2 + gi), advantage: null, rewards: {}, role,
  })));
}

/** Keep only the rows of steps up to `step` (0: none), as a fresh or resumed run starts. */
export function keepSamplesUpTo(dir: string, step: number): void {
  const file = join(dir, 'samples.jsonl');
  if (!existsSync(file)) return;
  const kept = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && (JSON.parse(l) as SampleRow).step <= step);
  writeFileSync(file, kept.map((l) => l + '\n').join(''));
}
