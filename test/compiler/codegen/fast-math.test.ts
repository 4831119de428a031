/** The generated kernels' fast e^x agrees with Math.exp to 2 ulp everywhere, edge cases exactly. */
import { describe, expect, it } from 'vitest';
import { fastExp } from '../../../compiler/codegen/fast-math.js';
import { rng } from '../../helpers/random-batch.js';

/** Distance in units in the last place of `want` (float64). */
function ulps(got: number, want: number): number {
  if (got === want) return 0;
  const e = Math.max(Math.floor(Math.log2(Math.abs(want))), -1022);
  return Math.abs(got - want) / 2 ** (e - 52);
}

describe('fastExp', () => {
  it('is within 2 ulp of Math.exp on random points of the whole finite range', () => {
    const r = rng(17);
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      // Half near 0 (where losses live), half anywhere e^x is a normal float64.
      const x = i % 2 === 0 ? 40 * (r() - 0.5) : -708 + 1417 * r();
      worst = Math.max(worst, ulps(fastExp(x), Math.exp(x)));
    }
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('is exact at 0 and equals Math.exp at the ends of its range, beyond them and on non-finite input', () => {
    expect(fastExp(0)).toBe(1);
    expect(fastExp(-0)).toBe(1);
    for (const x of [NaN, Infinity, -Infinity, 709, 709.7, 710, 1e6, -708, -708.5, -745, -746, -1e6, 5e-324, -5e-324]) {
      const want = Math.exp(x);
      if (Number.isNaN(want)) expect(fastExp(x)).toBeNaN();
      else expect(ulps(fastExp(x), want)).toBeLessThanOrEqual(2);
    }
    expect(fastExp(710)).toBe(Infinity);
    expect(fastExp(-746)).toBe(0);
  });

  it('stays within 2 ulp next to every multiple of ln2/64 (the table boundaries)', () => {
    let worst = 0;
    for (let n = -64 * 20; n <= 64 * 20; n++) {
      const x0 = (n * Math.LN2) / 64;
      for (const x of [x0, x0 * (1 + 1e-15), x0 * (1 - 1e-15), x0 + Math.LN2 / 128, x0 - Math.LN2 / 128]) worst = Math.max(worst, ulps(fastExp(x), Math.exp(x)));
    }
    expect(worst).toBeLessThanOrEqual(2);
  });
});
