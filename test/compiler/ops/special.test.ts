/**
 * lgamma against a high-precision reference computed here: Stirling's series with 12 terms after
 * shifting the argument above 40 (its truncation error there is below 1e-30), summed as float64,
 * and exact values at integers and half-integers. The op's reference semantics (Lanczos) must
 * match within 1e-6 relative over (0, 100]; its TF.js lowering within float32 rounding; its
 * gradient (digamma) matches finite differences.
 */
import { describe, expect, it } from 'vitest';
import { lgamma, digammaScalar, lgammaScalar } from '../../../compiler/ops/special.js';
import { tensor } from '../../../compiler/types.js';
import { useBackend } from '../../../runtime/backends/index.js';
import { named } from '../../../runtime/reference/named-array.js';
import { singleOpGraph } from '../../helpers/single-op.js';
import { gradTf, runTf } from '../../helpers/tf-run.js';

// Bernoulli numbers B_2k / (2k (2k - 1)) for Stirling's series.
const B2K = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330, 854513 / 138, -236364091 / 2730];

function stirlingReference(x: number): number {
  let shift = 0;
  let z = x;
  while (z < 40) {
    shift += Math.log(z);
    z += 1;
  }
  let series = 0;
  for (let k = 1; k <= B2K.length; k++) series += B2K[k - 1]! / (2 * k * (2 * k - 1) * z ** (2 * k - 1));
  return (z - 0.5) * Math.log(z) - z + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/** log((n-1)!) and log(Gamma(n + 1/2)) = log((2n)! sqrt(pi) / (4^n n!)), summed exactly in logs. */
function logFactorial(n: number): number {
  let s = 0;
  for (let k = 2; k <= n; k++) s += Math.log(k);
  return s;
}

const grid = Array.from({ length: 2000 }, (_, i) => 100 * ((i + 1) / 2000) ** 2).concat([1e-4, 1e-3, 0.01, 0.5, 1, 1.5, 2, 2.5, 3, 99.999, 100]);

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
}

describe('lgamma', () => {
  it('agrees with the exact values at integers and half-integers', () => {
    for (let n = 1; n <= 100; n++) {
      expect(Math.abs(lgammaScalar(n) - logFactorial(n - 1)), `n = ${n}`).toBeLessThan(1e-12 * Math.max(1, logFactorial(n - 1)));
      const half = logFactorial(2 * n) + 0.5 * Math.log(Math.PI) - n * Math.log(4) - logFactorial(n);
      expect(relErr(lgammaScalar(n + 0.5), half), `n + 1/2 = ${n + 0.5}`).toBeLessThan(1e-12);
    }
  });

  it('matches the high-precision reference within 1e-6 relative over (0, 100]', () => {
    let worst = 0;
    for (const x of grid) {
      const want = stirlingReference(x);
      // lgamma has zeros at 1 and 2, where relative error is undefined: within 1e-6 of them
      // (|lgamma| < 1e-6) the error is absolute, in units of 1e-6.
      const err = Math.abs(lgammaScalar(x) - want) / Math.max(Math.abs(want), 1e-6);
      worst = Math.max(worst, err);
      expect(err, `x = ${x}`).toBeLessThan(1e-6);
    }
    expect(worst).toBeLessThan(1e-7);
  });

  it('is NaN at and below 0', () => {
    expect(lgammaScalar(0)).toBeNaN();
    expect(lgammaScalar(-1.5)).toBeNaN();
  });

  it('has digamma as its gradient, equal to finite differences of the reference', () => {
    for (const x of grid.filter((_, i) => i % 10 === 0)) {
      const h = 1e-5 * Math.max(x, 1e-3);
      const fd = (stirlingReference(x + h) - stirlingReference(x - h)) / (2 * h);
      expect(Math.abs(digammaScalar(x) - fd), `x = ${x}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
      expect(lgamma.grad!([x], 2)[0]).toBeCloseTo(2 * digammaScalar(x), 12);
    }
    // Known values: psi(1) = -Euler's gamma, psi(1/2) = -gamma - 2 log 2.
    expect(digammaScalar(1)).toBeCloseTo(-0.5772156649015329, 13);
    expect(digammaScalar(0.5)).toBeCloseTo(-0.5772156649015329 - 2 * Math.LN2, 13);
  });

  it('lowers to TF.js (cpu) within float32 rounding of the reference (5e-6 of max(1, |lgamma|)), gradient included', async () => {
    const { tf } = await useBackend('cpu');
    const xs = grid.filter((_, i) => i % 7 === 0).map((x) => Math.fround(x));
    const g = singleOpGraph(lgamma, [tensor('f32', ['B'])], {});
    const inputs = { x0: named(['B'], [xs.length], xs) };
    const got = await runTf(tf, 'cpu', g, inputs);
    xs.forEach((x, i) => expect(Math.abs(got[i]! - stirlingReference(x)), `x = ${x}`).toBeLessThan(5e-6 * Math.max(1, Math.abs(stirlingReference(x)))));
    const grad = await gradTf(tf, 'cpu', g, inputs, 'x0', named(['B'], [xs.length], xs.map(() => 1)));
    xs.forEach((x, i) => expect(Math.abs(grad[i]! - digammaScalar(x)), `x = ${x}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(digammaScalar(x)))));
  });
});
