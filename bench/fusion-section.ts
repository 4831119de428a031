/**
 * `npm run bench fusion`: B1 (loss fusion, optimized vs -O0, per backend), B6 (PyTorch eager
 * anchor) and the physical floor (bytes moved / copy bandwidth). Every B1 case runs in its own
 * process (bench/fusion.ts); ratios are printed last and appended to bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { b1Shape, copyBandwidth } from './fusion.js';

const PIPELINES = ['grpo', 'dapo', 'dpo', 'gspo'];
/** webgpu runs where an adapter exists (lavapipe is a CPU Vulkan driver: its figures are indicative only). */
const BACKENDS = ['wasm', 'cpu', 'webgpu'];
/** Targets of the issue: fused / -O0 speedups. */
const TARGET: Record<string, number> = { wasm: 3, cpu: 15, webgpu: 2 };

interface Row { pipeline: string; backend: string; fusedMs: number; o0Ms: number; maxAbs: number; maxRel: number }

/** Run every case, print, append to bench/RESULTS.md. */
export function runFusionSection(): void {
  const rows: Row[] = [];
  for (const pipeline of PIPELINES) {
    for (const backend of BACKENDS) {
      const r = spawnSync(process.execPath, [...process.execArgv, 'bench/fusion.ts', pipeline, backend], { encoding: 'utf8' });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      try {
        rows.push({ pipeline, backend, ...(JSON.parse(line) as Omit<Row, 'pipeline' | 'backend'>) });
      } catch {
        if (backend === 'webgpu' && /no WebGPU adapter|cannot load the `webgpu` package/.test(r.stderr)) console.log(`  ${pipeline} on webgpu: skipped (no adapter)`);
        else console.log(`  ${pipeline} on ${backend}: failed: ${r.stderr.split('\n').slice(-3).join(' ')}`);
      }
    }
  }
  const bw = copyBandwidth();
  let torch: Record<string, number> | null = null;
  let torchNote = '';
  if (existsSync('/usr/bin/python3')) {
    const [B, G, T] = b1Shape('grpo');
    const t = spawnSync('/usr/bin/python3', ['bench/torch_anchor.py', String(B), String(G), String(T)], { encoding: 'utf8' });
    if (t.status === 0) torch = JSON.parse(t.stdout.trim()) as Record<string, number>;
    else torchNote = `torch anchor skipped: ${t.stderr.trim().split('\n').pop()}`;
  } else torchNote = 'torch anchor skipped: no /usr/bin/python3';
  const lines: string[] = [];
  lines.push('== B1 loss fusion: loss + grad.logp at 512 x 512 tokens (dpo: 256 pairs x 512), median of 5 after a warm-up, compute only');
  for (const r of rows) {
    const [B, G, T] = b1Shape(r.pipeline);
    // Bytes a fused pass must move at least: the token inputs it reads and grad.logp it writes (f32).
    const tokenInputs = r.pipeline === 'dpo' ? 3 : 4;
    const floorMs = ((tokenInputs + 1) * 4 * B * G * T) / bw;
    lines.push(`  ${r.pipeline.padEnd(5)} ${r.backend.padEnd(5)} fused ${r.fusedMs.toFixed(1).padStart(7)} ms  -O0 ${r.o0Ms.toFixed(1).padStart(8)} ms  max diff abs ${r.maxAbs.toExponential(1)} rel ${r.maxRel.toExponential(1)}  floor ${floorMs.toFixed(2)} ms`);
  }
  if (torch !== null) lines.push(`== B6 PyTorch eager (CPU, 2 threads, same shape): ${Object.entries(torch).map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(', ')}`);
  else lines.push(`== B6 ${torchNote}`);
  lines.push(`== copy bandwidth ${(bw / 1e6).toFixed(2)} GB/s`);
  lines.push('== ratios');
  for (const r of rows) {
    const x = r.o0Ms / r.fusedMs;
    lines.push(`  ${x >= (TARGET[r.backend] ?? 1) ? 'ok  ' : 'MISS'} B1 ${r.pipeline} ${r.backend}: ${x.toFixed(2)}x (target >= ${TARGET[r.backend]}x)`);
  }
  if (torch !== null) {
    for (const r of rows.filter((x) => x.backend === 'wasm' && torch![x.pipeline] !== undefined)) {
      const x = r.fusedMs / torch[r.pipeline]!;
      lines.push(`  ${x <= 1 ? 'ok  ' : 'MISS'} B6 ${r.pipeline} wasm / torch: ${x.toFixed(2)} (target <= 1)`);
    }
  }
  console.log(lines.join('\n'));
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
  appendFileSync('bench/RESULTS.md', `\n## fusion — ${new Date().toISOString()} — ${machine}\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`);
}
