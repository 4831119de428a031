/** Compile-time benchmark: warm compile time per stdlib file, and the cold start of `rlp check`. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { compileFiles } from '../compiler/compile.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Warm compile time of each stdlib file (median of repeated runs after a warm-up). */
export function benchWarmCompile(reps = 30): { file: string; ms: number }[] {
  const files = readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).sort().map((f) => `stdlib/${f}`);
  for (const f of files) for (let i = 0; i < 5; i++) compileFiles([f]);
  return files.map((file) => {
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      compileFiles([file]);
      times.push(performance.now() - t0);
    }
    return { file, ms: median(times) };
  });
}

/**
 * Wall time of `rlp check FILES` as a fresh process against a bare `node -e 0`, run alternately
 * (so a busy machine slows both alike), median of `reps` each.
 */
export function benchColdCheck(files: readonly string[] = ['stdlib/grpo.rlp', 'stdlib/dr_grpo.rlp', 'stdlib/dpo.rlp'], reps = 10): { ms: number; baselineMs: number; ratio: number } {
  const run = (args: string[]): number => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`rlp failed: ${r.stderr}`);
    return performance.now() - t0;
  };
  const check = ['runtime/cli/rlp.mjs', 'check', ...files];
  run(check);
  run(['-e', '0']);
  const checks: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < reps; i++) {
    bare.push(run(['-e', '0']));
    checks.push(run(check));
  }
  const ms = median(checks);
  const baselineMs = median(bare);
  return { ms, baselineMs, ratio: ms / baselineMs };
}
