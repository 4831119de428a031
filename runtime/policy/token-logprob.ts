/**
 * Token log-probabilities as one fused kernel: log softmax(logits)[id] per row, computed row by
 * row from the max and the log-sum-exp, never materializing the [N, V] log-probs; its backward
 * is g * (onehot(id) - softmax(logits)), written straight into the logits' gradient. On the
 * host-memory backends (cpu, wasm), reading the logits and writing its results where the backend
 * keeps them (no copy); on webgpu, generated WGSL programs (token-logprob-wgsl.ts); elsewhere the
 * stock log-softmax and one-hot product.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { fastExp } from '../../compiler/codegen/fast-math.js';
import { hostTensor, hostView } from '../../compiler/ops/host-memory.js';
import { oneHotF32 } from '../backends/fixes.js';
import type { TFModule } from '../backends/tf.js';
import { tokenEntropyWgsl, tokenLogProbsWgsl } from './token-logprob-wgsl.js';

type Tensor = tfc.Tensor;

/** log softmax along the last axis, then the entry at each row's id, by the stock ops. */
export function stockTokenLogProbs(tf: TFModule, logits: Tensor, ids: Int32Array): Tensor {
  const V = logits.shape[logits.shape.length - 1]!;
  const lead = logits.shape.slice(0, -1);
  return tf.tidy(() => {
    const onehot = tf.reshape(oneHotF32(tf, tf.tensor1d(ids, 'int32'), V), [...lead, V]);
    return tf.sum(tf.mul(tf.logSoftmax(logits), onehot), -1);
  });
}

/** Per row: the max and log-sum-exp of the logits (float64 accumulation). */
function rowStats(z: ArrayLike<number>, N: number, V: number): { max: Float64Array; lse: Float64Array } {
  const max = new Float64Array(N);
  const lse = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const o = n * V;
    let m = -Infinity;
    for (let v = 0; v < V; v++) if (z[o + v]! > m) m = z[o + v]!;
    let s = 0;
    for (let v = 0; v < V; v++) s += fastExp(z[o + v]! - m);
    max[n] = m;
    lse[n] = m + Math.log(s);
  }
  return { max, lse };
}

/**
 * A per-row function of the logits [..., V] -> [...] as one TF.js op on a host-memory backend:
 * `forward` reads the logits where the backend keeps them (z, N rows of V), writes each row's
 * result into `out`, and returns the backward, which writes the logits' gradient (dz) from the
 * results' (g). The logits are saved for it (an Identity that shares memory, not a copy).
 */
function hostRowKernel(
  tf: TFModule, logits: Tensor,
  forward: (z: ArrayLike<number>, N: number, V: number, out: Float32Array | Int32Array | Uint8Array) => (z: ArrayLike<number>, g: ArrayLike<number>, dz: Float32Array | Int32Array | Uint8Array) => void,
): Tensor {
  const V = logits.shape[logits.shape.length - 1]!;
  const lead = logits.shape.slice(0, -1);
  const N = lead.reduce((a, b) => a * b, 1);
  const f = tf.customGrad((...args) => {
    const x = args[0] as Tensor;
    (args[1] as unknown as (ts: Tensor[]) => void)([x]);
    // Allocate first, then take the views (the wasm heap may move on allocation).
    const out = hostTensor(tf, lead, 'float32');
    const backward = forward(hostView(tf, x), N, V, out.view());
    return {
      value: out.tensor,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const grad = hostTensor(tf, saved[0]!.shape, 'float32');
        backward(hostView(tf, saved[0]!), hostView(tf, dy as Tensor), grad.view());
        return grad.tensor;
      },
    };
  });
  return f(logits);
}

/** log softmax(logits)[..., ids] with the fused kernel on cpu, wasm and webgpu; the stock ops elsewhere. */
export function tokenLogProbs(tf: TFModule, logits: Tensor, ids: Int32Array, backend: string): Tensor {
  if (backend === 'webgpu') return tokenLogProbsWgsl(tf, logits, ids);
  if (backend !== 'cpu' && backend !== 'wasm') return stockTokenLogProbs(tf, logits, ids);
  return hostRowKernel(tf, logits, (z, N, V, out) => {
    const { lse } = rowStats(z, N, V);
    for (let n = 0; n < N; n++) out[n] = z[n * V + ids[n]!]! - lse[n]!;
    return (zs, g, dz) => {
      for (let n = 0; n < N; n++) {
        const o = n * V;
        const gn = g[n]!;
        const l = lse[n]!;
        for (let v = 0; v < V; v++) dz[o + v] = -gn * fastExp(zs[o + v]! - l);
        dz[o + ids[n]!]! += gn;
      }
    };
  });
}

/** -sum_v p_v log p_v along the last axis of logits, by the stock ops ([..., V] log-probs materialized). */
export function stockTokenEntropy(tf: TFModule, logits: Tensor): Tensor {
  return tf.tidy(() => {
    const lp = tf.logSoftmax(logits);
    return tf.neg(tf.sum(tf.mul(tf.exp(lp), lp), -1));
  });
}

/**
 * The entropy of each row's distribution, H = -sum_v p_v log p_v with p = softmax(logits), as one
 * fused kernel on cpu and wasm: per row (float64) m = max z, s = sum e^(z-m), t = sum e^(z-m) (z-m),
 * so H = log s - t / s, never materializing [N, V] log-probs; backward dH/dz_v = -p_v (log p_v + H),
 * written straight into the logits' gradient. A logit of -Infinity has p = 0 and contributes
 * nothing (the limit of p log p), where the stock ops give NaN. On webgpu, the generated WGSL
 * programs (token-logprob-wgsl.ts, same formulas in float32); elsewhere, the stock ops.
 */
export function tokenEntropy(tf: TFModule, logits: Tensor, backend: string): Tensor {
  if (backend === 'webgpu') return tokenEntropyWgsl(tf, logits);
  if (backend !== 'cpu' && backend !== 'wasm') return stockTokenEntropy(tf, logits);
  return hostRowKernel(tf, logits, (z, N, V, out) => {
    const lse = new Float64Array(N);
    const H = new Float64Array(N);
    for (let n = 0; n < N; n++) {
      const o = n * V;
      let m = -Infinity;
      for (let v = 0; v < V; v++) if (z[o + v]! > m) m = z[o + v]!;
      let s = 0;
      let t = 0;
      for (let v = 0; v < V; v++) {
        const d = z[o + v]! - m;
        const e = fastExp(d);
        s += e;
        if (e !== 0) t += e * d;
      }
      lse[n] = m + Math.log(s);
      H[n] = Math.log(s) - t / s;
      out[n] = H[n]!;
    }
    return (zs, g, dz) => {
      for (let n = 0; n < N; n++) {
        const o = n * V;
        const gn = g[n]!;
        const l = lse[n]!;
        const h = H[n]!;
        for (let v = 0; v < V; v++) {
          const lp = zs[o + v]! - l;
          const p = fastExp(lp);
          dz[o + v] = p === 0 ? 0 : -gn * p * (lp + h);
        }
      }
    };
  });
}
