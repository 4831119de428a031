/**
 * Layer normalization over the last axis as one kernel on the host-memory backends (cpu, wasm):
 * y = (x - mean) / sqrt(var + eps) * g + b per row, in float64, with its backward (the gradients of
 * x, g and b) in one pass, instead of the dozen small TF.js ops (moments, shifts, a square root, a
 * division) that dominate a small policy's time. Reads and writes where the backend keeps the data.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { hostTensor, hostView } from '../../compiler/ops/host-memory.js';
import type { TFModule } from '../backends/tf.js';

type Tensor = tfc.Tensor;

/** The variance's epsilon (as TF.js models usually take it). */
export const LN_EPS = 1e-5;

/** Normalize each row of x [M, d] into y; keep each row's mean and 1 / std. */
function forward(x: Float32Array, g: Float32Array, b: Float32Array, y: Float32Array, mean: Float64Array, rstd: Float64Array, M: number, d: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * d;
    let s = 0;
    for (let c = 0; c < d; c++) s += x[o + c]!;
    const m = s / d;
    let v = 0;
    for (let c = 0; c < d; c++) v += (x[o + c]! - m) ** 2;
    const r = 1 / Math.sqrt(v / d + LN_EPS);
    mean[i] = m;
    rstd[i] = r;
    for (let c = 0; c < d; c++) y[o + c] = (x[o + c]! - m) * r * g[c]! + b[c]!;
  }
}

/** dx = rstd (dxh - mean(dxh) - xh mean(dxh xh)) with dxh = dy g; dg += dy xh; db += dy. */
function backward(dy: Float32Array, x: Float32Array, g: Float32Array, mean: Float64Array, rstd: Float64Array, dx: Float32Array, dg: Float64Array, db: Float64Array, M: number, d: number): void {
  for (let i = 0; i < M; i++) {
    const o = i * d;
    const m = mean[i]!;
    const r = rstd[i]!;
    let a = 0;
    let bsum = 0;
    for (let c = 0; c < d; c++) {
      const xh = (x[o + c]! - m) * r;
      const dxh = dy[o + c]! * g[c]!;
      a += dxh;
      bsum += dxh * xh;
      dg[c]! += dy[o + c]! * xh;
      db[c]! += dy[o + c]!;
    }
    a /= d;
    bsum /= d;
    for (let c = 0; c < d; c++) {
      const xh = (x[o + c]! - m) * r;
      dx[o + c] = r * (dy[o + c]! * g[c]! - a - xh * bsum);
    }
  }
}

/** Whether layerNormKernel runs on this backend. */
export function hasLayerNormKernel(backend: string): boolean {
  return backend === 'cpu' || backend === 'wasm';
}

/** Layer norm of x [..., d] with gain g [d] and bias b [d], on cpu or wasm. */
export function layerNormKernel(tf: TFModule, x: Tensor, g: Tensor, b: Tensor): Tensor {
  const shape = x.shape;
  const d = shape[shape.length - 1]!;
  const M = x.size / d;
  const mean = new Float64Array(M);
  const rstd = new Float64Array(M);
  const f = tf.customGrad((...args) => {
    const [xs, gs, bs] = args as unknown as [Tensor, Tensor, Tensor];
    (args[3] as unknown as (ts: Tensor[]) => void)([xs, gs]);
    const out = hostTensor(tf, shape, 'float32');
    forward(hostView(tf, xs) as Float32Array, hostView(tf, gs) as Float32Array, hostView(tf, bs) as Float32Array, out.view() as Float32Array, mean, rstd, M, d);
    return {
      value: out.tensor,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const dxT = hostTensor(tf, shape, 'float32');
        const dgT = hostTensor(tf, [d], 'float32');
        const dbT = hostTensor(tf, [d], 'float32');
        const dg = new Float64Array(d);
        const db = new Float64Array(d);
        backward(hostView(tf, dy as Tensor) as Float32Array, hostView(tf, saved[0]!) as Float32Array, hostView(tf, saved[1]!) as Float32Array, mean, rstd, dxT.view() as Float32Array, dg, db, M, d);
        dgT.view().set(dg);
        dbT.view().set(db);
        return [dxT.tensor, dgT.tensor, dbT.tensor];
      },
    };
  });
  return (f as unknown as (a: Tensor, b: Tensor, c: Tensor) => Tensor)(x, g, b);
}
