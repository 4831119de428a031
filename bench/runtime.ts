/** Runtime benchmarks: GRPO loss forward+backward per backend, wasm matmul, gather gradients. */
import { compileFiles } from '../compiler/compile.js';
import { makeSource, span } from '../grammar/source.js';
import { useBackend, webgpuAvailable, type BackendName } from '../runtime/backends/index.js';
import { matMul } from '../runtime/backends/fixes.js';
import type { TFModule } from '../runtime/backends/tf.js';
import type { BatchEntry } from '../runtime/batch/read.js';
import { evaluate } from '../runtime/eval/evaluate.js';
import { validateBatch } from '../runtime/eval/validate.js';
import { lowerProgram } from '../runtime/exec/program.js';

async function median(reps: number, f: () => Promise<void> | void): Promise<number> {
  await f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

/** A GRPO batch of `seqs` sequences x `tokens` tokens with ragged lengths. */
function grpoBatch(B: number, G: number, T: number): BatchEntry[] {
  const at = span(makeSource('bench', ''), 0, 0);
  const n = B * G * T;
  let s = 1;
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

/** GRPO loss + gradient in logp on 512 sequences x 512 tokens, per backend. */
export async function benchGrpo(): Promise<{ backend: string; ms: number }[]> {
  const program = lowerProgram(compileFiles(['stdlib/grpo.rlp']).pipelines[0]!);
  const entries = grpoBatch(64, 8, 512);
  const v = validateBatch(program.graph, entries, { set: {}, grad: ['logp'], allowNonfinite: false, fileSpan: entries[0]!.span });
  if (v.valid === null) throw new Error('bench batch invalid');
  const backends: BackendName[] = ['wasm', 'cpu', ...((await webgpuAvailable()) ? (['webgpu'] as const) : [])];
  const out: { backend: string; ms: number }[] = [];
  for (const b of backends) {
    const { tf } = await useBackend(b);
    out.push({ backend: b, ms: await median(3, async () => void (await evaluate(tf, b, v.valid!, ['logp']))) });
  }
  return out;
}

/** wasm matmul, 512x512: plain, TF.js with a transposed operand, and ours (explicit transpose). */
export async function benchMatmul(): Promise<Record<string, number>> {
  const { tf } = await useBackend('wasm');
  const n = 512;
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const run = (f: () => ReturnType<TFModule['matMul']>) => median(5, () => {
    const r = f();
    r.dataSync();
    r.dispose();
  });
  const res = {
    plain: await run(() => tf.matMul(a, b)),
    tfTransposedB: await run(() => tf.matMul(a, b, false, true)),
    tfTransposedA: await run(() => tf.matMul(a, b, true, false)),
    oursTransposedB: await run(() => tf.tidy(() => matMul(tf, a, b, false, true))),
    oursTransposedA: await run(() => tf.tidy(() => matMul(tf, a, b, true, false))),
    gradient: await median(5, () => {
      const [ga, gb] = tf.grads((...xs) => tf.sum(tf.matMul(xs[0]!, xs[1]!)))([a, b]);
      ga!.dataSync();
      tf.dispose([ga!, gb!]);
    }),
  };
  tf.dispose([a, b]);
  return res;
}

/** Gradient of an embedding lookup (gather) as the number of looked-up tokens grows. */
export async function benchGather(backend: BackendName): Promise<{ tokens: number; ms: number }[]> {
  const { tf } = await useBackend(backend);
  const table = tf.randomNormal([1024, 32]);
  const out: { tokens: number; ms: number }[] = [];
  for (const tokens of [4096, 16384, 65536, 262144]) {
    const idx = tf.tensor1d(Array.from({ length: tokens }, (_, i) => (i * 7919) % 1024), 'int32');
    const ms = await median(3, () => {
      const g = tf.grad((t: typeof table) => tf.sum(tf.gather(t, idx)))(table);
      g.dataSync();
      g.dispose();
    });
    idx.dispose();
    out.push({ tokens, ms });
  }
  table.dispose();
  return out;
}
