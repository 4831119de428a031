/**
 * One Adam update of a variable on the host-memory backends (cpu, wasm) as one loop instead of a
 * dozen small TF.js ops: every float32 operation of the op-by-op update (runtime/train/adam.ts),
 * in the same order and rounded the same (Math.fround after each), so the weights and moments are
 * bit for bit the same.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { hostTensor, hostView } from '../../compiler/ops/host-memory.js';
import type { TFModule } from './tf.js';

/** Whether adamUpdateHost runs on this backend. */
export function hasHostAdam(backend: string): boolean {
  return backend === 'cpu' || backend === 'wasm';
}

/** The numbers of one Adam step: gradient scale (clipping), betas, bias corrections, eps, learning rate. */
export interface AdamScalars {
  readonly scale: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly bc1: number;
  readonly bc2: number;
  readonly eps: number;
  readonly lr: number;
}

function update(x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, xo: Float32Array, mo: Float32Array, vo: Float32Array, s: AdamScalars): void {
  const f = Math.fround;
  const scale = f(s.scale);
  const b1 = f(s.beta1);
  const c1 = f(1 - s.beta1);
  const b2 = f(s.beta2);
  const c2 = f(1 - s.beta2);
  const bc1 = f(s.bc1);
  const bc2 = f(s.bc2);
  const eps = f(s.eps);
  const lr = f(s.lr);
  for (let i = 0; i < x.length; i++) {
    const gi = f(g[i]! * scale);
    const m1 = f(f(m[i]! * b1) + f(gi * c1));
    const v1 = f(f(v[i]! * b2) + f(f(gi * gi) * c2));
    const den = f(f(Math.sqrt(f(v1 / bc2))) + eps);
    xo[i] = f(x[i]! - f(f(f(m1 / bc1) / den) * lr));
    mo[i] = m1;
    vo[i] = v1;
  }
}

/** Adam's update of x with gradient g and moments m, v: the new moments (x is assigned in place). */
export function adamUpdateHost(tf: TFModule, x: tfc.Variable, g: tfc.Tensor, m: tfc.Tensor, v: tfc.Tensor, s: AdamScalars): [tfc.Tensor, tfc.Tensor] {
  const xo = hostTensor(tf, x.shape, 'float32');
  const mo = hostTensor(tf, x.shape, 'float32');
  const vo = hostTensor(tf, x.shape, 'float32');
  update(hostView(tf, x) as Float32Array, hostView(tf, g) as Float32Array, hostView(tf, m) as Float32Array, hostView(tf, v) as Float32Array, xo.view() as Float32Array, mo.view() as Float32Array, vo.view() as Float32Array, s);
  x.assign(xo.tensor);
  xo.tensor.dispose();
  return [mo.tensor, vo.tensor];
}
