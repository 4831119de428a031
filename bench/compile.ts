/** Compile-time benchmark: warm compile time per stdlib file, the cold start of `rlp check`, and how compile time scales with the number of bindings. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { memoryHost } from '../compiler/bind/host.js';
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

/** Generated programs of `n` bindings, one per shape the scaling bench measures. */
export const SCALING_SHAPES: Readonly<Record<string, (n: number) => string>> = {
  // b_i reads b_{i-1}: one long dependency chain, every binding an output.
  forward: (n) => program(Array.from({ length: n }, (_, i) => (i === 0 ? 'b0 = mean(logp, over [B, G, T], where mask)' : `b${i} = b${i - 1} + 1.0`)), `b${n - 1}`),
  // The same chain written backwards: b_i reads b_{i+1}.
  backward: (n) => program(Array.from({ length: n }, (_, i) => (i === n - 1 ? `b${i} = mean(logp, over [B, G, T], where mask)` : `b${i} = b${i + 1} * 2.0`)), 'b0'),
  // Independent bindings sharing their inputs (one input node used n times). Three expressions
  // each, like the chains: 32k bindings stay under MAX_ELABORATION_WORK (100,000 expressions).
  wide: (n) => program(Array.from({ length: n }, (_, i) => `b${i} = logp * ${i}.5`), `mean(b0 + b${n - 1}, over [B, G, T], where mask)`),
};

function program(bindings: readonly string[], loss: string): string {
  return `pipeline p {\n  loss {\n${bindings.join('\n')}\n    minimize ${loss}\n  }\n}\n`;
}

/**
 * Compile time of generated programs of N = 2k ... 32k bindings (checking alone, and with the
 * passes), with the ratio time(2N) / time(N): near-linear work keeps it near 2.
 */
export function benchBindingScaling(sizes = [2000, 4000, 8000, 16000, 32000]): { shape: string; n: number; checkMs: number; totalMs: number }[] {
  const out: { shape: string; n: number; checkMs: number; totalMs: number }[] = [];
  for (const [shape, gen] of Object.entries(SCALING_SHAPES)) {
    compileFiles(['/bench/x.rlp'], { host: memoryHost({ '/bench/x.rlp': gen(200) }) });
    for (const n of sizes) {
      const host = memoryHost({ '/bench/x.rlp': gen(n) });
      let t0 = performance.now();
      const checked = compileFiles(['/bench/x.rlp'], { host, passes: [] });
      const checkMs = performance.now() - t0;
      t0 = performance.now();
      const full = compileFiles(['/bench/x.rlp'], { host });
      const totalMs = performance.now() - t0;
      if (checked.diagnostics.length + full.diagnostics.length > 0) throw new Error(`${shape} ${n}: ${full.diagnostics[0]?.message}`);
      out.push({ shape, n, checkMs, totalMs });
    }
  }
  return out;
}
