/**
 * `npm run bench fusion`: B1 (loss fusion, optimized vs -O0, per backend), B2 (token log-prob,
 * fused vs stock, per V and backend), B6 (PyTorch eager anchors, run right after the rlp case
 * they anchor) and the physical floor (bytes moved / copy bandwidth). Every case runs in its own
 * process (bench/fusion.ts, bench/token-logprob.ts) and measures its two variants side by side;
 * the load average is printed with each figure (the machine may be shared); ratios are printed
 * last and everything is appended to bench/RESULTS.md with the machine.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { b1Shape, copyBandwidth } from './fusion.js';
import { B2_N, B2_V } from './token-logprob.js';

const PIPELINES = ['grpo', 'dapo', 'dpo', 'gspo'];
/** webgpu runs where an adapter exists (lavapipe is a CPU Vulkan driver: its figures are indicative only). */
const BACKENDS = ['wasm', 'cpu', 'webgpu'];
/** Targets of the issue: fused / -O0 speedups. */
const TARGET: Record<string, number> = { wasm: 3, cpu: 15, webgpu: 2 };

interface Row { pipeline: string; backend: string; fusedMs: number; o0Ms: number; maxAbs: number; maxRel: number; load: number }
interface B2Row { V: number; backend: string; fusedMs: number; stockMs: number; maxAbs: number; maxRel: number; n: number; load: number }

const load = (): number => loadavg()[0]!;

function child<T>(args: string[]): T | string {
  const r = spawnSync(process.execPath, [...process.execArgv, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    return `failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`;
  }
}

/** A webgpu case that failed only because this machine has no adapter. */
const noAdapter = (backend: string, failure: string): boolean => backend === 'webgpu' && /no WebGPU adapter|cannot load the `webgpu` package/.test(failure);

function torchAnchor(args: string[]): { value: Record<string, number> | null; note: string; load: number } {
  if (!existsSync('/usr/bin/python3')) return { value: null, note: 'skipped: no /usr/bin/python3', load: load() };
  const t = spawnSync('/usr/bin/python3', ['bench/torch_anchor.py', ...args], { encoding: 'utf8' });
  if (t.status !== 0) return { value: null, note: `skipped: ${t.stderr.trim().split('\n').pop()}`, load: load() };
  return { value: JSON.parse(t.stdout.trim()) as Record<string, number>, note: '', load: load() };
}

/** Run every case, print, append to bench/RESULTS.md. */
export function runFusionSection(): void {
  const rows: Row[] = [];
  const b2: B2Row[] = [];
  const torch: Record<string, { ms: number; load: number }> = {};
  const notes: string[] = [];
  const [B, G, T] = b1Shape('grpo');
  for (const pipeline of PIPELINES) {
    for (const backend of BACKENDS) {
      const r = child<Omit<Row, 'pipeline' | 'backend' | 'load'>>(['bench/fusion.ts', pipeline, backend]);
      if (typeof r === 'string') notes.push(`B1 ${pipeline} ${backend}: ${noAdapter(backend, r) ? 'skipped (no WebGPU adapter)' : r}`);
      else rows.push({ pipeline, backend, ...r, load: load() });
      // B6: the torch anchor right after the wasm case it anchors.
      if (backend === 'wasm' && (pipeline === 'grpo' || pipeline === 'dapo')) {
        const t = torchAnchor([String(B), String(G), String(T)]);
        if (t.value !== null) torch[pipeline] = { ms: t.value[pipeline]!, load: t.load };
        else notes.push(`B6 ${pipeline}: torch anchor ${t.note}`);
      }
    }
  }
  for (const V of B2_V) {
    for (const backend of BACKENDS) {
      const r = child<Omit<B2Row, 'V' | 'backend' | 'load'>>(['bench/token-logprob.ts', String(V), backend]);
      if (typeof r === 'string') notes.push(`B2 V=${V} ${backend}: ${noAdapter(backend, r) ? 'skipped (no WebGPU adapter)' : r}`);
      else b2.push({ V, backend, ...r, load: load() });
    }
  }
  const t2 = torchAnchor(['logprob', String(B2_N), '32000']);
  if (t2.value !== null) torch['logprob'] = { ms: t2.value['logprob']!, load: t2.load };
  else notes.push(`B2 torch anchor ${t2.note}`);
  const bw = copyBandwidth();
  const lines: string[] = [];
  lines.push('== B1 loss fusion: loss + grad.logp at 512 x 512 tokens (dpo: 256 pairs x 512), compute only (rlp eval --repeat), side by side: 5 rounds of (-O0, fused) x 5 timed runs after a warm-up, median of 25');
  for (const r of rows) {
    const [b, g, t] = b1Shape(r.pipeline);
    // Bytes a fused pass must move at least: the token inputs it reads and grad.logp it writes (f32).
    const tokenInputs = r.pipeline === 'dpo' ? 2 : r.pipeline === 'dapo' || r.pipeline === 'gspo' ? 3 : 4;
    const floorMs = ((tokenInputs + 1) * 4 * b * g * t) / bw;
    lines.push(`  ${r.pipeline.padEnd(5)} ${r.backend.padEnd(5)} fused ${r.fusedMs.toFixed(1).padStart(7)} ms  -O0 ${r.o0Ms.toFixed(1).padStart(8)} ms  max diff abs ${r.maxAbs.toExponential(1)} rel ${r.maxRel.toExponential(1)}  floor ${floorMs.toFixed(2)} ms  load ${r.load.toFixed(1)}`);
  }
  lines.push(`== B2 token log-prob: N = ${B2_N}, forward + d/d logits, fused vs stock, alternating runs after a warm-up of each, median (n runs each)`);
  for (const r of b2) {
    // The fused kernel reads the logits twice (forward, backward) and writes their gradient.
    const floorMs = (3 * 4 * B2_N * r.V) / bw;
    lines.push(`  V=${String(r.V).padEnd(6)} ${r.backend.padEnd(5)} fused ${r.fusedMs.toFixed(1).padStart(8)} ms  stock ${r.stockMs.toFixed(1).padStart(9)} ms  n ${r.n}  max diff abs ${r.maxAbs.toExponential(1)} rel ${r.maxRel.toExponential(1)}  floor ${floorMs.toFixed(2)} ms  load ${r.load.toFixed(1)}`);
  }
  const tl = Object.entries(torch).map(([k, v]) => `${k} ${v.ms.toFixed(1)} ms (load ${v.load.toFixed(1)})`);
  lines.push(`== B6 PyTorch eager (CPU, 2 threads; B1 anchors run right after their wasm case): ${tl.join(', ') || 'none'}`);
  lines.push(`== copy bandwidth ${(bw / 1e6).toFixed(2)} GB/s`);
  for (const n of notes) lines.push(`== note: ${n}`);
  lines.push('== ratios');
  for (const r of rows) {
    const x = r.o0Ms / r.fusedMs;
    lines.push(`  ${x >= (TARGET[r.backend] ?? 1) ? 'ok  ' : 'MISS'} B1 ${r.pipeline} ${r.backend}: ${x.toFixed(2)}x (target >= ${TARGET[r.backend]}x)  load ${r.load.toFixed(1)}`);
  }
  for (const r of b2) {
    const x = r.stockMs / r.fusedMs;
    lines.push(`  ${x >= 1 ? 'ok  ' : 'MISS'} B2 V=${r.V} ${r.backend}: stock / fused ${x.toFixed(2)}x (target >= 1)  load ${r.load.toFixed(1)}`);
  }
  for (const r of rows.filter((x) => x.backend === 'wasm' && torch[x.pipeline] !== undefined)) {
    const x = r.fusedMs / torch[r.pipeline]!.ms;
    lines.push(`  ${x <= 1 ? 'ok  ' : 'MISS'} B6 ${r.pipeline} wasm / torch: ${x.toFixed(2)} (target <= 1)`);
  }
  const w32 = b2.find((r) => r.V === 32000 && r.backend === 'wasm');
  if (w32 !== undefined && torch['logprob'] !== undefined) {
    const x = w32.fusedMs / torch['logprob'].ms;
    lines.push(`  ${x <= 1.5 ? 'ok  ' : 'MISS'} B2 V=32000 wasm fused / torch: ${x.toFixed(2)} (target <= 1.5)`);
  }
  console.log(lines.join('\n'));
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  appendFileSync('bench/RESULTS.md', `\n## fusion — ${new Date().toISOString()} — ${machine}\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`);
}
