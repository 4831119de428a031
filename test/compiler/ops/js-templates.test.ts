/**
 * Every op's kernel templates (`js`) agree with its `scalar` and `grad` on random operands: the
 * value exactly, except through the templates' fast e^x (compiler/codegen/fast-math.ts, 2 ulp).
 */
import { describe, expect, it } from 'vitest';
import { OPS } from '../../../compiler/ops/index.js';
import { rng } from '../../helpers/random-batch.js';

const withTemplates = OPS.filter((o) => o.js !== undefined);

describe('kernel templates', () => {
  it('cover every elementwise op that has scalar semantics', () => {
    const missing = OPS.filter((o) => o.traits.includes('elementwise') && o.scalar !== undefined && o.js === undefined).map((o) => o.name);
    expect(missing).toEqual([]);
  });

  for (const op of withTemplates) {
    it(`${op.name}: value and partial derivatives equal scalar and grad`, () => {
      const names = op.inputs.map((_, i) => `a${i}`);
      // The template's library functions (lgamma's) are bound by name, as a generated kernel binds them.
      const lib = op.js!.lib ?? {};
      const usesFastExp = Object.keys(lib).includes('fexp');
      const value = (...xs: number[]): number => (new Function(...Object.keys(lib), ...names, `return ${op.js!.value(names)};`) as (...a: unknown[]) => number)(...Object.values(lib), ...xs);
      const grad = (...xs: number[]): number[] => (new Function(...Object.keys(lib), ...names, 'g', 'y', `return [${op.js!.grad(names, 'g', 'y').join(', ')}];`) as (...a: unknown[]) => number[])(...Object.values(lib), ...xs);
      const r = rng(op.name.length * 7919);
      for (let t = 0; t < 200; t++) {
        const xs = op.inputs.map((spec) => (spec.kind === 'bool' ? (r() < 0.5 ? 0 : 1) : t % 10 === 0 ? Math.round(4 * r() - 2) : 4 * r() - 2));
        if (['log', 'sqrt', 'pow', 'lgamma'].includes(op.name)) xs[0] = Math.abs(xs[0]!) + 0.1;
        const want = op.scalar!(...xs);
        const v = value(...xs);
        if (usesFastExp) expect(Math.abs(v - want)).toBeLessThanOrEqual(8 * Number.EPSILON * Math.max(Math.abs(want), 1));
        else expect(v).toBe(want);
        const g = r() - 0.5;
        const got = grad(...xs, g, want);
        const ref = op.grad!(xs, g);
        got.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 12));
      }
    });
  }
});
