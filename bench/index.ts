/** `npm run bench`: benchmarks reported as numbers and target ratios, never as test assertions. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchBindingScaling, benchColdCheck, benchWarmCompile } from './compile.js';
import { benchLearn } from './learn.js';
import { benchTyping } from './lsp.js';
import { runFusionSection } from './fusion-section.js';
import { benchPrefix } from './prefix.js';
import { benchGather, benchGrpo, benchMatmul } from './runtime.js';

const mark = (ok: boolean): string => (ok ? 'ok  ' : 'MISS');
const only = process.argv[2];
const SECTIONS = ['compile', 'lsp', 'runtime', 'prefix', 'learn', 'fusion'];

if (only === undefined) {
  // Each section in its own process: one section's large tensors (and the heap they grew) must
  // not slow the next one down.
  for (const section of SECTIONS) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), section], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  process.exit(0);
}
if (!SECTIONS.includes(only)) {
  console.error(`unknown section \`${only}\`; the sections are ${SECTIONS.join(', ')}`);
  process.exit(2);
}

if (only === 'compile') {
  console.log('== compile time (warm, median) — target < 50 ms per file');
  for (const r of benchWarmCompile()) console.log(`  ${mark(r.ms < 50)} ${r.file.padEnd(24)} ${r.ms.toFixed(2)} ms`);
  const cold = benchColdCheck();
  console.log('== cold start of `rlp check` on 3 stdlib files (median of 10) — target < 500 ms');
  console.log(`  ${mark(cold.ms < 500)} rlp check            ${cold.ms.toFixed(0)} ms   (bare \`node -e 0\`: ${cold.baselineMs.toFixed(0)} ms, ratio ${cold.ratio.toFixed(1)}x)`);
  const one = benchColdCheck(['stdlib/grpo.rlp']);
  console.log('== cold `rlp check stdlib/grpo.rlp` / bare `node -e 0`, run alternately (median of 10) — target <= 2x');
  console.log(`  ${mark(one.ratio <= 2)} ratio ${one.ratio.toFixed(2)}x   (rlp check ${one.ms.toFixed(0)} ms, node -e 0 ${one.baselineMs.toFixed(0)} ms)`);
  console.log('== compile time against the number of bindings: ratio time(2N)/time(N) — target < 2.5 (2 is linear)');
  const rows = benchBindingScaling();
  for (const [k, r] of rows.entries()) {
    const prev = rows[k - 1]?.shape === r.shape ? rows[k - 1]! : null;
    const ratio = (now: number, before: number | undefined): string => (before === undefined ? '     ' : (now / before).toFixed(2).padStart(5));
    const ok = prev === null || (r.checkMs / prev.checkMs < 2.5 && r.totalMs / prev.totalMs < 2.5);
    console.log(`  ${mark(ok)} ${r.shape.padEnd(9)} N=${String(r.n).padStart(5)}  check ${r.checkMs.toFixed(0).padStart(6)} ms (x${ratio(r.checkMs, prev?.checkMs)})  with passes ${r.totalMs.toFixed(0).padStart(6)} ms (x${ratio(r.totalMs, prev?.totalMs)})`);
  }
}

if (only === 'lsp') {
  const t = await benchTyping();
  console.log('== rlp lsp typing latency: diagnostics of stdlib/preference.rlp after a one-character edit (median) — target < 30 ms');
  console.log(`  ${mark(t.ms < 30)} didChange -> publishDiagnostics   ${t.ms.toFixed(1)} ms  (min ${t.min.toFixed(1)} ms, ${t.edits} edits, stdio transport)`);
  console.log(`       the check alone, in-process       ${t.inProcessMs.toFixed(1)} ms  (CPU time ${t.inProcessCpuMs.toFixed(1)} ms)`);
}

if (only === 'runtime') {
  console.log('== GRPO loss + grad.logp, 512 sequences x 512 tokens (median of 3)');
  for (const r of await benchGrpo()) console.log(`       ${r.backend.padEnd(8)} ${r.ms.toFixed(0)} ms`);

  const m = await benchMatmul();
  console.log('== wasm matmul 512x512 (median) — target: transposed operands within 1.5x of plain after the fix');
  console.log(`       plain                     ${m['plain']!.toFixed(1)} ms`);
  console.log(`       TF.js, B transposed       ${m['tfTransposedB']!.toFixed(1)} ms  (${(m['tfTransposedB']! / m['plain']!).toFixed(1)}x: the defect)`);
  console.log(`       TF.js, A transposed       ${m['tfTransposedA']!.toFixed(1)} ms  (${(m['tfTransposedA']! / m['plain']!).toFixed(1)}x: the defect)`);
  for (const k of ['oursTransposedB', 'oursTransposedA'] as const) {
    const ratio = m[k]! / m['plain']!;
    console.log(`  ${mark(ratio <= 1.5)} rlp, ${k.endsWith('B') ? 'B' : 'A'} transposed         ${m[k]!.toFixed(1)} ms  (${ratio.toFixed(2)}x)`);
  }
  const gr = m['gradient']! / m['plain']!;
  console.log(`  ${mark(gr <= 3 * 1.5)} forward + gradient        ${m['gradient']!.toFixed(1)} ms  (${gr.toFixed(2)}x one plain matmul; 3 matmuls, so target <= 4.5x)`);

  for (const b of ['wasm', 'cpu'] as const) {
    const rows = await benchGather(b);
    const per = rows.map((r) => r.ms / r.tokens);
    const spread = Math.max(...per) / Math.min(...per);
    console.log(`== gather gradient on ${b} as tokens grow — target: linear (time per token within 2x across sizes)`);
    for (const r of rows) console.log(`       ${String(r.tokens).padStart(7)} tokens  ${r.ms.toFixed(1)} ms  (${((1e6 * r.ms) / r.tokens).toFixed(0)} ns/token)`);
    console.log(`  ${mark(spread <= 2)} spread of time per token: ${spread.toFixed(2)}x`);
  }
}
if (only === 'prefix') {
  console.log('== training tokens/s, shared-prefix vs plain forward+backward (wasm; a micro-batch of B prompts x G completions of R = 16 tokens, about 8192 tokens unshared) — target: speedup >= 0.75 x analytic G(P+R)/(P+GR)');
  for (const r of await benchPrefix()) {
    const frac = r.measured / r.analytic;
    console.log(`  ${mark(frac >= 0.75)} G=${String(r.G).padEnd(2)} P=${String(r.P).padEnd(3)} B=${String(r.B).padEnd(2)}  shared ${r.sharedTokensPerS.toFixed(0).padStart(7)} tok/s  plain ${r.plainTokensPerS.toFixed(0).padStart(7)} tok/s  speedup ${r.measured.toFixed(2)}x of analytic ${r.analytic.toFixed(2)}x (${(100 * frac).toFixed(0)}%)`);
  }
}
if (only === 'learn') {
  console.log('== learning demo: `rlp run grpo|dpo --steps 30` with the defaults (default task and backend) — target: last 5 steps clearly above the first 5, under 10 min on 2 cores');
  for (const r of benchLearn()) {
    const up = r.last5 - r.first5;
    console.log(`  ${mark(up >= 0.05 && r.seconds < 600)} ${r.pipeline.padEnd(5)} ${r.metric.padEnd(19)} first 5 ${r.first5.toFixed(3)}  last 5 ${r.last5.toFixed(3)}  (+${up.toFixed(3)})  ${r.seconds.toFixed(0)} s`);
  }
}
if (only === 'fusion') runFusionSection();
process.exit(0);
