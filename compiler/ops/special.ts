/**
 * Special functions: `lgamma` (log |Gamma(x)| for x > 0), which TF.js does not have. Its
 * reference semantics are the Lanczos approximation (g = 7, 9 terms) in float64; its TF.js
 * lowering is a different formula that float32 evaluates well: the recurrence
 * lgamma(x) = lgamma(x + 8) - log(x (x+1) ... (x+7)) below 8, then Stirling's series. The
 * gradient is the digamma function (in the lowering, the same shift and an asymptotic series).
 */
import type { Tensor, TF } from './define.js';
import { elementwise } from './elementwise.js';

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log Gamma(x) for x > 0 (NaN for x <= 0), float64, relative error ~1e-15. */
export function lgammaScalar(x: number): number {
  if (!(x > 0)) return Number.NaN;
  // Reflection keeps the Lanczos sum in its accurate range: Gamma(x) Gamma(1-x) = pi / sin(pi x).
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgammaScalar(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The digamma function psi(x) = d/dx lgamma(x) for x > 0: recurrence up to 10, then its asymptotic series. */
export function digammaScalar(x: number): number {
  if (!(x > 0)) return Number.NaN;
  let acc = 0;
  let z = x;
  while (z < 10) {
    acc -= 1 / z;
    z += 1;
  }
  const z2 = 1 / (z * z);
  const series = z2 * (1 / 12 - z2 * (1 / 120 - z2 * (1 / 252 - z2 * (1 / 240 - z2 * (1 / 132)))));
  return acc + Math.log(z) - 0.5 / z - series;
}

const SHIFT = 8;

/** lgamma in TF.js ops: shift x below 8 up by 8 (dividing out the product), then Stirling's series. */
function lgammaValue(tf: TF, x: Tensor): Tensor {
  const small = tf.less(x, SHIFT);
  const z = tf.where(small, tf.add(x, SHIFT), x);
  let prod = x;
  for (let k = 1; k < SHIFT; k++) prod = tf.mul(prod, tf.add(x, k));
  // Only the selected branch matters; 1 keeps log finite where the shift is not used.
  const correction = tf.where(small, tf.log(tf.where(small, prod, tf.onesLike(prod))), tf.zerosLike(x));
  const inv = tf.reciprocal(z);
  const inv2 = tf.square(inv);
  // 1/(12z) - 1/(360z^3) + 1/(1260z^5) - 1/(1680z^7)
  const series = tf.mul(inv, tf.sub(1 / 12, tf.mul(inv2, tf.sub(1 / 360, tf.mul(inv2, tf.sub(1 / 1260, tf.mul(inv2, 1 / 1680)))))));
  const stirling = tf.add(tf.sub(tf.mul(tf.sub(z, 0.5), tf.log(z)), z), tf.add(series, HALF_LOG_2PI));
  return tf.sub(stirling, correction);
}

/** digamma in TF.js ops: the same shift (subtracting 1/(x+k)), then the asymptotic series. */
function digammaValue(tf: TF, x: Tensor): Tensor {
  const small = tf.less(x, SHIFT);
  const z = tf.where(small, tf.add(x, SHIFT), x);
  let acc = tf.zerosLike(x);
  for (let k = 0; k < SHIFT; k++) acc = tf.add(acc, tf.reciprocal(tf.add(x, k)));
  const correction = tf.where(small, acc, tf.zerosLike(x));
  const inv = tf.reciprocal(z);
  const inv2 = tf.square(inv);
  // 1/(12z^2) - 1/(120z^4) + 1/(252z^6) - 1/(240z^8)
  const series = tf.mul(inv2, tf.sub(1 / 12, tf.mul(inv2, tf.sub(1 / 120, tf.mul(inv2, tf.sub(1 / 252, tf.mul(inv2, 1 / 240)))))));
  return tf.sub(tf.sub(tf.sub(tf.log(z), tf.mul(inv, 0.5)), series), correction);
}

/** lgamma with a custom gradient dy * digamma(x), so the branch tests stay off the tape. */
function lowerLgamma(tf: TF, x: Tensor): Tensor {
  const f = tf.customGrad((...args) => {
    const v = args[0] as Tensor;
    const save = args[1] as (ts: Tensor[]) => void;
    save([v]);
    return { value: lgammaValue(tf, v), gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => tf.mul(dy as Tensor, digammaValue(tf, saved[0]!)) };
  });
  return f(x);
}

export const lgamma = elementwise({
  name: 'lgamma', lower: (tf, [x]) => lowerLgamma(tf, x!),
  // torch.lgamma: the same function (its own float evaluation), gradient digamma.
  torch: (_, __, c) => `torch.lgamma(${c.tensor(0)})`,
  dsl: 'lgamma', summary: 'log Gamma(x), for x > 0 (NaN otherwise); its gradient is digamma(x).', inputs: ['x'], result: 'f32',
  scalar: lgammaScalar, grad: ([x], g) => [g * digammaScalar(x!)],
  // Generated kernels call the reference functions themselves (float64, as the kernels compute).
  js: { value: ([x]) => `lgamma(${x})`, grad: ([x], g) => [`(${g} * digamma(${x}))`], lib: { lgamma: lgammaScalar, digamma: digammaScalar } },
  examples: [{ dsl: 'lgamma(1)', out: 0 }, { dsl: 'lgamma(5)', out: Math.log(24) }],
});
