/**
 * B2 token log-prob: log softmax(logits)[id] per row, forward + d/d logits, N = 1024 rows of V
 * logits, the fused kernel (runtime/policy/token-logprob.ts) against the stock ops (log-softmax
 * and a one-hot product), side by side on one backend: a warm-up of each, then alternating runs;
 * the median of each. Checked in the same run: the max abs and rel difference of the values and
 * of the gradient. On webgpu a step is timed until the read-back of its value and gradient
 * completes (see `step`); on cpu and wasm until they are computed. Run as
 * `tsx bench/token-logprob.ts V BACKEND` (one process per benchmark); prints one JSON line.
 */
import { useBackend, type BackendName } from '../runtime/backends/index.js';
import { stockTokenLogProbs, tokenLogProbs } from '../runtime/policy/token-logprob.js';
import { median } from './fusion.js';

/** Rows of B2. */
export const B2_N = 1024;
/** Vocabulary sizes of B2. */
export const B2_V: readonly number[] = [64, 512, 4096, 32000];

/** One B2 measurement: fused and stock milliseconds (median), and their largest differences. */
export async function benchTokenLogprob(V: number, backend: BackendName): Promise<{ fusedMs: number; stockMs: number; maxAbs: number; maxRel: number; n: number }> {
  const { tf } = await useBackend(backend);
  const N = B2_N;
  let s = 11;
  const r = (): number => ((s = (s * 16807) % 2147483647) / 2147483647);
  const logits = tf.tensor(Float32Array.from({ length: N * V }, () => 6 * r() - 3), [N, V]);
  const ids = Int32Array.from({ length: N }, () => Math.floor(r() * V));
  const cot = tf.tensor(Float32Array.from({ length: N }, () => r() - 0.5), [N]);
  const fused = (x: ReturnType<typeof tf.tensor>) => tokenLogProbs(tf, x, ids, backend);
  const stock = (x: ReturnType<typeof tf.tensor>) => stockTokenLogProbs(tf, x, ids);
  // Host backends (cpu, wasm) compute synchronously: the values are ready when valueAndGrad
  // returns, and the read-back is not timed. Device backends (webgpu) only queue the work: the time
  // runs until the read-back of both the value and the gradient has completed (awaited, the same
  // for fused and stock), so it includes the [N, V] gradient's copy to the host.
  const device = backend !== 'cpu' && backend !== 'wasm';
  const step = async (f: typeof fused): Promise<{ value: Float32Array; grad: Float32Array; ms: number }> => {
    const t0 = performance.now();
    const { value, grad } = tf.valueAndGrad((x: ReturnType<typeof tf.tensor>) => tf.sum(tf.mul(f(x), cot)) as ReturnType<typeof tf.scalar>)(logits);
    let ms = performance.now() - t0;
    const [v, g] = await Promise.all([value.data(), grad.data()]);
    if (device) ms = performance.now() - t0;
    tf.dispose([value, grad]);
    return { value: v as Float32Array, grad: g as Float32Array, ms };
  };
  // The stock path on cpu at V = 32000 takes minutes a run on a shared 2-core machine: fewer runs there.
  const n = V >= 32000 ? (backend === 'cpu' ? 1 : 3) : 5;
  const a = await step(fused);
  const b = await step(stock);
  const tf_: number[] = [];
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    ts.push((await step(stock)).ms);
    tf_.push((await step(fused)).ms);
  }
  let maxAbs = Math.abs(a.value[0]! - b.value[0]!);
  let maxRel = maxAbs / Math.max(Math.abs(b.value[0]!), 1e-12);
  let scale = 0;
  for (const x of b.grad) scale = Math.max(scale, Math.abs(x));
  for (let i = 0; i < a.grad.length; i++) {
    const d = Math.abs(a.grad[i]! - b.grad[i]!);
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(b.grad[i]!), 1e-2 * scale, 1e-12));
  }
  tf.dispose([logits, cot]);
  return { fusedMs: median(tf_), stockMs: median(ts), maxAbs, maxRel, n };
}

if (process.argv[1]?.endsWith('token-logprob.ts') === true && process.argv[2] !== undefined) {
  const r = await benchTokenLogprob(Number(process.argv[2]), process.argv[3] as BackendName);
  console.log(JSON.stringify(r));
}
