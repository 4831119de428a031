/** `npm run bench`: benchmarks reported as numbers and target ratios, never as test assertions. */
import { benchColdCheck, benchWarmCompile } from './compile.js';

const mark = (ok: boolean): string => (ok ? 'ok  ' : 'MISS');

console.log('== compile time (warm, median) — target < 50 ms per file');
for (const r of benchWarmCompile()) console.log(`  ${mark(r.ms < 50)} ${r.file.padEnd(24)} ${r.ms.toFixed(2)} ms`);

const cold = benchColdCheck();
console.log('== cold start of `rlp check` on 3 stdlib files (median) — target < 500 ms');
console.log(`  ${mark(cold.ms < 500)} rlp check            ${cold.ms.toFixed(0)} ms   (bare \`node -e 0\`: ${cold.baselineMs.toFixed(0)} ms, ratio ${(cold.ms / cold.baselineMs).toFixed(1)}x)`);
