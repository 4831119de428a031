/** Reading a run folder (`rlp run --out DIR`) for its report: config.json, metrics.jsonl, samples.jsonl. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SampleRow } from '../train/samples.js';
import type { MetricsRow } from './charts.js';

/** A run folder that cannot be reported on: a user error. */
export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

/** What a report shows of a run. */
export interface RunRecord {
  readonly dir: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly metrics: readonly MetricsRow[];
  readonly samples: readonly SampleRow[];
}

function jsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as T];
    } catch {
      throw new ReportError(`${file}:${i + 1}: not a JSON object`);
    }
  });
}

/** Keep, for each step, the rows of its last run (a resumed run logs the steps it redoes again). */
export function lastOfEachStep<T extends { readonly step: number }>(rows: readonly T[]): T[] {
  const byStep = new Map<number, T[]>();
  let prev: number | null = null;
  for (const r of rows) {
    if (r.step !== prev) byStep.set(r.step, []);
    byStep.get(r.step)!.push(r);
    prev = r.step;
  }
  return [...byStep.entries()].sort(([a], [b]) => a - b).flatMap(([, rs]) => rs);
}

/** Read a run folder. */
export function readRun(dir: string): RunRecord {
  const configFile = join(dir, 'config.json');
  if (!existsSync(configFile)) throw new ReportError(`${dir} is not a run folder: it has no config.json (rlp run --out writes one)`);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new ReportError(`${configFile}: not valid JSON`);
  }
  const metrics = lastOfEachStep(jsonLines<MetricsRow & { step: number }>(join(dir, 'metrics.jsonl')));
  const samples = lastOfEachStep(jsonLines<SampleRow>(join(dir, 'samples.jsonl')));
  return { dir, config, metrics, samples };
}
