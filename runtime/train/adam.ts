/** Adam with global-norm gradient clipping; its state is plain tensors, so checkpoints can hold it. */
import type * as tfc from '@tensorflow/tfjs-core';
import { adamUpdateHost, hasHostAdam, type AdamScalars } from '../backends/host-adam.js';
import type { TFModule } from '../backends/tf.js';

/** Adam's settings. */
export interface AdamConfig {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Clip the gradients' global L2 norm to this (0: no clipping). */
  readonly maxGradNorm: number;
}

export const ADAM_DEFAULTS: AdamConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1.0 };

/** Adam's state: the step count and the moment estimates, by variable position. */
export interface AdamState {
  step: number;
  readonly m: tfc.Tensor[];
  readonly v: tfc.Tensor[];
}

/** Fresh state for these variables. */
export function adamState(tf: TFModule, vars: readonly tfc.Variable[]): AdamState {
  return { step: 0, m: vars.map((x) => tf.zerosLike(x)), v: vars.map((x) => tf.zerosLike(x)) };
}

/**
 * The global L2 norm of a list of gradients: each tensor's sum of squares on the device, read back
 * at once (asynchronously: webgpu cannot read synchronously in Node) and added in float64.
 */
export async function globalNorm(tf: TFModule, grads: readonly tfc.Tensor[]): Promise<number> {
  const sums = tf.tidy(() => tf.stack(grads.map((g) => tf.sum(tf.square(g)))));
  const host = await sums.data();
  sums.dispose();
  let acc = 0;
  for (const x of host) acc += x;
  return Math.sqrt(acc);
}

/** Adam's update of x (assigned) with gradient g and moments m, v, by TF.js ops: the new moments. */
export function adamUpdateOps(tf: TFModule, x: tfc.Variable, grad: tfc.Tensor, m: tfc.Tensor, v: tfc.Tensor, s: AdamScalars): [tfc.Tensor, tfc.Tensor] {
  return tf.tidy(() => {
    const g = tf.mul(grad, s.scale);
    const m1 = tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1));
    const v1 = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
    x.assign(tf.sub(x, tf.mul(tf.div(tf.div(m1, s.bc1), tf.add(tf.sqrt(tf.div(v1, s.bc2)), s.eps)), s.lr)));
    return [m1, v1];
  });
}

/**
 * Apply one Adam step to `vars` with `grads` (same order), clipping their global norm first.
 * Returns the norm before clipping (the `grad_norm` metric). A non-finite norm (a NaN or infinite
 * gradient) changes nothing, neither the weights nor the state: the caller decides what follows.
 */
export async function adamStep(tf: TFModule, vars: readonly tfc.Variable[], grads: readonly tfc.Tensor[], state: AdamState, c: AdamConfig): Promise<number> {
  const norm = await globalNorm(tf, grads);
  if (!Number.isFinite(norm)) return norm;
  const scale = c.maxGradNorm > 0 && norm > c.maxGradNorm ? c.maxGradNorm / (norm + 1e-6) : 1;
  state.step += 1;
  const bc1 = 1 - c.beta1 ** state.step;
  const bc2 = 1 - c.beta2 ** state.step;
  const host = hasHostAdam(tf.getBackend());
  const s: AdamScalars = { scale, beta1: c.beta1, beta2: c.beta2, bc1, bc2, eps: c.eps, lr: c.lr };
  vars.forEach((x, i) => {
    // cpu, wasm: the same float32 operations as one loop (runtime/backends/host-adam.ts).
    const [m, v] = (host ? adamUpdateHost : adamUpdateOps)(tf, x, grads[i]!, state.m[i]!, state.v[i]!, s);
    state.m[i]!.dispose();
    state.v[i]!.dispose();
    state.m[i] = m;
    state.v[i] = v;
  });
  return norm;
}
