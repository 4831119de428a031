/**
 * B1 loss fusion: a stdlib loss forward + d loss / d logp at 512 sequences x 512 tokens,
 * optimized (fused) against -O0 on one backend, through `evaluate` with `repeat` as
 * `rlp eval --repeat` runs it (compute only, batch already uploaded), side by side: 3 rounds of
 * (-O0, fused), each a warm-up and 5 timed runs; the median of the 25 timed runs of each (the
 * generated kernels reach their optimized code after a few calls, and a garbage collection lands
 * in some runs: few samples made single cases swing 2x between runs of the bench). Checked in the same run: the max abs and rel difference of loss and grad.logp.
 * Run as `tsx bench/fusion.ts PIPELINE BACKEND` (one process per benchmark); prints one JSON line.
 */
import { compileFiles } from '../compiler/compile.js';
import { makeSource, span } from '../grammar/source.js';
import { useBackend, type BackendName } from '../runtime/backends/index.js';
import type { BatchEntry } from '../runtime/batch/read.js';
import { evaluate, type EvalOutputs } from '../runtime/eval/evaluate.js';
import { batchProgram, planBatch } from '../runtime/eval/specialize.js';
import { lowerProgram } from '../runtime/exec/program.js';
import { validateBatch } from '../runtime/eval/validate.js';

/** A batch of every standard token input, B x G x T with ragged lengths (seeded). */
export function lossBatch(B: number, G: number, T: number): BatchEntry[] {
  const at = span(makeSource('bench', ''), 0, 0);
  const n = B * G * T;
  let s = 7;
  const r = (): number => ((s = (s * 16807) % 2147483647) / 2147483647);
  const lengths = Array.from({ length: B * G }, () => 1 + Math.floor(r() * T));
  const mask = Float64Array.from({ length: n }, (_, i) => ((i % T) < lengths[Math.floor(i / T)]! ? 1 : 0));
  const tok = (): Float64Array => Float64Array.from({ length: n }, () => -2 * r());
  const e = (name: string, shape: number[], data: Float64Array): BatchEntry => ({ name, tensor: { shape, data }, span: at });
  return [
    e('logp', [B, G, T], tok()), e('old_logp', [B, G, T], tok()), e('ref_logp', [B, G, T], tok()), e('mask', [B, G, T], mask),
    e('reward', [B, G], Float64Array.from({ length: B * G }, () => (r() < 0.5 ? 0 : 1))),
  ];
}

/** The shapes of B1: 512 x 512 tokens; preference pipelines as 256 pairs. */
export function b1Shape(pipeline: string): [number, number, number] {
  return pipeline === 'dpo' ? [256, 2, 512] : [64, 8, 512];
}

/** Rounds of side-by-side measurement (each a warm-up and REPEAT timed runs per variant). */
const ROUNDS = 5;
const REPEAT = 5;

/** The median of some numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** One B1 measurement. */
export async function benchFusion(pipeline: string, backend: BackendName): Promise<{ fusedMs: number; o0Ms: number; maxAbs: number; maxRel: number }> {
  const file = pipeline === 'dpo' ? 'stdlib/dpo.rlp' : `stdlib/${pipeline}.rlp`;
  const p = compileFiles([file]).pipelines.find((x) => x.name === pipeline)!;
  const [B, G, T] = b1Shape(pipeline);
  const prog = lowerProgram(p, { level: 'O0' });
  // The inputs it reads; its reward functions are fed their result, `reward`.
  const reads = new Set([...prog.inputs.filter((i) => i.read).map((i) => i.name), ...(prog.rewards.functions.length > 0 ? ['reward'] : [])]);
  const entries = lossBatch(B, G, T).filter((e) => reads.has(e.name));
  const v = validateBatch(prog.graph, entries, { set: pipeline === 'dpo' ? {} : { group: String(G) }, grad: ['logp'], allowNonfinite: false, fileSpan: span(makeSource('bench', ''), 0, 0) });
  if (v.valid === null) throw new Error(v.diagnostics.map((d) => d.message).join('; '));
  const { tf } = await useBackend(backend);
  const plans = { o0: planBatch(batchProgram(p, v.valid!, false), v.valid!), fused: planBatch(batchProgram(p, v.valid!, true), v.valid!) };
  const times = { o0: [] as number[], fused: [] as number[] };
  const outs: Partial<Record<'o0' | 'fused', EvalOutputs>> = {};
  // Side by side on a shared machine: rounds of (-O0, fused), each an `rlp eval --repeat 3`
  // (warm-up, then REPEAT timed runs on the uploaded batch); the median over every timed run.
  for (let round = 0; round < ROUNDS; round++) {
    for (const k of ['o0', 'fused'] as const) {
      outs[k] = await evaluate(tf, backend, plans[k], ['logp'], { repeat: REPEAT, onRun: (ms: number) => times[k].push(ms) });
    }
  }
  const o0 = { out: outs.o0!, t: { ms: median(times.o0) } };
  const fused = { out: outs.fused!, t: { ms: median(times.fused) } };
  let maxAbs = 0;
  let maxRel = 0;
  for (const k of ['loss', 'grad.logp']) {
    const a = fused.out[k]!.data;
    const b = o0.out[k]!.data;
    let scale = 0;
    for (const x of b) scale = Math.max(scale, Math.abs(x));
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      maxAbs = Math.max(maxAbs, d);
      maxRel = Math.max(maxRel, d / Math.max(Math.abs(b[i]!), 1e-2 * scale, 1e-12));
    }
  }
  return { fusedMs: fused.t.ms, o0Ms: o0.t.ms, maxAbs, maxRel };
}

/** Copy bandwidth of this machine (bytes/ms): the physical floor's denominator. */
export function copyBandwidth(): number {
  const n = 1 << 24;
  const a = new Float32Array(n).fill(1);
  const b = new Float32Array(n);
  const ts: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    b.set(a);
    ts.push(performance.now() - t0);
  }
  ts.sort((x, y) => x - y);
  // A copy reads n floats and writes n floats.
  return (2 * 4 * n) / ts[3]!;
}

if (process.argv[1]?.endsWith('fusion.ts') === true && process.argv[2] !== undefined) {
  const r = await benchFusion(process.argv[2], process.argv[3] as BackendName);
  console.log(JSON.stringify(r));
}
