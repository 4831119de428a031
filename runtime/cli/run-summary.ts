/** What `rlp run` prints first (the run folder and the starting policy) and last (a summary of the run). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Metrics } from '../train/options.js';
import { latestCheckpoint } from '../train/checkpoint.js';
import { charTokenizer, UnknownCharacter } from '../policy/tokenizer.js';

/** Where the policy starts: a folder of weights, or null for a seeded random initialization. */
export interface StartingPolicy {
  readonly init: string | null;
  /** Why this policy (shown after it). */
  readonly why: string;
}

/** The first line of a run: its folder and the policy it starts from. */
export function firstLine(pipeline: string, out: string, p: StartingPolicy, seed: number, resume: boolean): string {
  const policy = resume ? 'the latest checkpoint of the run' : p.init === null ? `random weights (seed ${seed})` : p.init;
  return `rlp run ${pipeline}: writing to ${out}; policy: ${policy} (${resume ? '--resume' : p.why})`;
}

/** The first character of a JSONL dataset's text columns that the character tokenizer cannot encode, or null. */
export function firstUnencodable(file: string): string | null {
  const tok = charTokenizer();
  for (const line of readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split('\n')) {
    if (line.trim() === '') continue;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return null; // validation reports it
    }
    for (const k of ['prompt', 'chosen', 'rejected']) {
      const v = row[k];
      if (typeof v !== 'string') continue;
      try {
        tok.encode(v);
      } catch (e) {
        if (e instanceof UnknownCharacter) return e.char;
        throw e;
      }
    }
  }
  return null;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

/** The end-of-run summary: steps, time, the headline metric of the first and last 5 steps, where things are. */
export function summary(out: string, ms: readonly Metrics[]): string {
  if (ms.length === 0) return `no steps run; ${out} holds the run`;
  const key = ms[0]!['reward'] !== undefined ? 'reward' : ms[0]!['rewards/accuracies'] !== undefined ? 'rewards/accuracies' : 'loss';
  const head = ms.slice(0, 5).map((m) => m[key] ?? NaN);
  const tail = ms.slice(-5).map((m) => m[key] ?? NaN);
  const secs = ms.reduce((a, m) => a + (m['step_time'] ?? 0), 0);
  const ck = latestCheckpoint(out);
  const lines = [
    `done: ${ms.length} step${ms.length === 1 ? '' : 's'} (${ms[0]!['step']}..${ms[ms.length - 1]!['step']}) in ${secs.toFixed(1)} s; ${key} ${mean(head).toFixed(3)} over the first ${head.length}, ${mean(tail).toFixed(3)} over the last ${tail.length}`,
    `  checkpoint: ${ck ?? '(none)'}`,
    `  metrics:    ${join(out, 'metrics.jsonl')}`,
    `  config:     ${join(out, 'config.json')}`,
  ];
  if (existsSync(join(out, 'report.html'))) lines.push(`  report:     ${join(out, 'report.html')}`);
  return lines.join('\n');
}
