/**
 * Ragged multi-head attention as one kernel, forward and backward, on the host-memory backends
 * (cpu, wasm): every row of a packed [N, 3d] queries|keys|values matrix attends to its own keys,
 * given as up to two row ranges (a prompt's rows, then a completion's own rows up to itself), so
 * no row is padded, no mask is built and no head is transposed. Scores, softmax and the weighted
 * values are computed row by row in float64; the probabilities are kept for the backward, which
 * writes the gradient of the whole [N, 3d] input. Reads its inputs and writes its results where the
 * backend keeps them (no copy).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { hostTensor, hostView } from '../../compiler/ops/host-memory.js';
import type { TFModule } from '../backends/tf.js';

type Tensor = tfc.Tensor;

/** The keys of each query row: rows [from0, to0) and [from1, to1) (either may be empty). */
export interface KeySpans {
  readonly from0: Int32Array;
  readonly to0: Int32Array;
  readonly from1: Int32Array;
  readonly to1: Int32Array;
}

/** Write the rows of [from0, to0) then [from1, to1) into `rows`; returns their count. */
function spanRows(rows: Int32Array, from0: number, to0: number, from1: number, to1: number): number {
  let n = 0;
  for (let r = from0; r < to0; r++) rows[n++] = r;
  for (let r = from1; r < to1; r++) rows[n++] = r;
  return n;
}

/**
 * The forward loop (top-level, so that V8 optimizes it once for every call): writes o [N, d] and
 * each row's probabilities into `probs` at start[i] (head-major within the row).
 */
function forward(z: Float32Array, o: Float32Array, spans: KeySpans, probs: Float64Array, start: Int32Array, N: number, H: number, d: number, scale: number): void {
  const { from0, to0, from1, to1 } = spans;
  const d3 = 3 * d;
  const dh = d / H;
  const keyRows = new Int32Array(N);
  const acc = new Float64Array(dh);
  for (let i = 0; i < N; i++) {
    const n = spanRows(keyRows, from0[i]!, to0[i]!, from1[i]!, to1[i]!);
    for (let h = 0; h < H; h++) {
      const qo = i * d3 + h * dh;
      const po = start[i]! + h * n;
      let m = -Infinity;
      for (let j = 0; j < n; j++) {
        const ko = keyRows[j]! * d3 + d + h * dh;
        let s = 0;
        for (let c = 0; c < dh; c++) s += z[qo + c]! * z[ko + c]!;
        s *= scale;
        probs[po + j] = s;
        if (s > m) m = s;
      }
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const e = Math.exp(probs[po + j]! - m);
        probs[po + j] = e;
        sum += e;
      }
      acc.fill(0);
      for (let j = 0; j < n; j++) {
        const p = probs[po + j]! / sum;
        probs[po + j] = p;
        const vo = keyRows[j]! * d3 + 2 * d + h * dh;
        for (let c = 0; c < dh; c++) acc[c]! += p * z[vo + c]!;
      }
      const oo = i * d + h * dh;
      for (let c = 0; c < dh; c++) o[oo + c] = acc[c]!;
    }
  }
}

/** The backward loop: the gradient [N, 3d] of queries, keys and values from the output's gradient g [N, d]. */
function backward(g: Float32Array, zs: Float32Array, spans: KeySpans, probs: Float64Array, start: Int32Array, N: number, H: number, d: number, scale: number): Float64Array {
  const { from0, to0, from1, to1 } = spans;
  const d3 = 3 * d;
  const dh = d / H;
  const keyRows = new Int32Array(N);
  const dz = new Float64Array(N * d3);
  const dp = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const n = spanRows(keyRows, from0[i]!, to0[i]!, from1[i]!, to1[i]!);
    for (let h = 0; h < H; h++) {
      const qo = i * d3 + h * dh;
      const go = i * d + h * dh;
      const po = start[i]! + h * n;
      // dp_j = dO . v_j; dv_j += p_j dO; ds_j = p_j (dp_j - sum_k p_k dp_k) * scale.
      let pdp = 0;
      for (let j = 0; j < n; j++) {
        const vo = keyRows[j]! * d3 + 2 * d + h * dh;
        const p = probs[po + j]!;
        let s = 0;
        for (let c = 0; c < dh; c++) {
          const gc = g[go + c]!;
          s += gc * zs[vo + c]!;
          dz[vo + c]! += p * gc;
        }
        dp[j] = s;
        pdp += p * s;
      }
      for (let j = 0; j < n; j++) {
        const ko = keyRows[j]! * d3 + d + h * dh;
        const ds = probs[po + j]! * (dp[j]! - pdp) * scale;
        for (let c = 0; c < dh; c++) {
          dz[qo + c]! += ds * zs[ko + c]!;
          dz[ko + c]! += ds * zs[qo + c]!;
        }
      }
    }
  }
  return dz;
}

/** Whether raggedAttention runs on this backend (the host-memory ones). */
export function hasRaggedAttention(backend: string): boolean {
  return backend === 'cpu' || backend === 'wasm';
}

/**
 * softmax(q k^T * scale) v per head over each row's key spans: `qkv` [N, 3d] (queries, keys, values
 * side by side, heads contiguous within each), result [N, d].
 */
export function raggedAttention(tf: TFModule, qkv: Tensor, spans: KeySpans, H: number, scale: number): Tensor {
  const [N, d3] = qkv.shape as [number, number];
  const d = d3 / 3;
  const dh = d / H;
  let keys = 0;
  for (let i = 0; i < N; i++) keys += spans.to0[i]! - spans.from0[i]! + spans.to1[i]! - spans.from1[i]!;
  // Probabilities, per row then head then key (in span order).
  const probs = new Float64Array(keys * H);
  const start = new Int32Array(N + 1);
  for (let i = 0; i < N; i++) start[i + 1] = start[i]! + (spans.to0[i]! - spans.from0[i]! + spans.to1[i]! - spans.from1[i]!) * H;
  const f = tf.customGrad((...args) => {
    const x = args[0] as Tensor;
    (args[1] as unknown as (ts: Tensor[]) => void)([x]);
    const out = hostTensor(tf, [N, d], 'float32');
    forward(hostView(tf, x) as Float32Array, out.view() as Float32Array, spans, probs, start, N, H, d, scale);
    return {
      value: out.tensor,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const grad = hostTensor(tf, [N, d3], 'float32');
        const dz = backward(hostView(tf, dy as Tensor) as Float32Array, hostView(tf, saved[0]!) as Float32Array, spans, probs, start, N, H, d, scale);
        grad.view().set(dz);
        return grad.tensor;
      },
    };
  });
  return f(qkv);
}
