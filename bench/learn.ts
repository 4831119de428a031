/**
 * The learning demo: `rlp run grpo --steps 30` and `rlp run dpo --steps 30` on the default task,
 * exactly as a user types them (default backend, defaults for everything else), timed, with the
 * mean of the first and last 5 steps of the key metric. Run with `npm run bench learn`, or
 * `npx tsx bench/learn.ts [--steps N] [--seed S]` on its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** One demo run's figures. */
export interface LearnResult {
  readonly pipeline: string;
  readonly metric: string;
  readonly first5: number;
  readonly last5: number;
  readonly seconds: number;
  readonly steps: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Train `pipeline` with the CLI's defaults and summarize `metric` over the first and last 5 steps. */
export function learnRun(pipeline: string, metric: string, steps = 30, seed = 0): LearnResult {
  const out = mkdtempSync(join(tmpdir(), `rlp-learn-${pipeline}-`));
  try {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(root, 'runtime/cli/rlp.mjs'), 'run', pipeline, '--steps', String(steps), '--seed', String(seed), '--out', out], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`rlp run ${pipeline} failed (exit ${r.status}):\n${r.stderr}`);
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    const values = rows.map((m) => m[metric]!);
    return { pipeline, metric, first5: mean(values.slice(0, 5)), last5: mean(values.slice(-5)), seconds, steps: rows.length };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Both demos: GRPO's sampled reward and DPO's reward accuracy on the built-in arithmetic task. */
export function benchLearn(steps = 30, seed = 0): LearnResult[] {
  return [learnRun('grpo', 'reward', steps, seed), learnRun('dpo', 'rewards/accuracies', steps, seed)];
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string, d: number): number => {
    const i = process.argv.indexOf(name);
    return i < 0 ? d : Number(process.argv[i + 1]);
  };
  for (const r of benchLearn(arg('--steps', 30), arg('--seed', 0))) {
    console.log(`rlp run ${r.pipeline} --steps ${r.steps}: ${r.metric} first 5 steps ${r.first5.toFixed(3)}, last 5 ${r.last5.toFixed(3)} (${r.seconds.toFixed(0)} s)`);
  }
}
