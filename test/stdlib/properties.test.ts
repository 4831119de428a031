/**
 * Properties every family of stdlib methods must have: permuting the samples inside a group
 * permutes the advantages; padding more tokens changes nothing; and micro-batches evaluated with
 * the whole batch's global denominators (and its advantages) add up to the whole batch, loss and
 * gradient alike.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GROUP, PREFERENCE, TOKEN_LEVEL } from '../helpers/references.js';
import { firstMiss, makeBatch, padMore, permuteGroups, runPipeline, sliceBatch, stdlibPipeline } from '../helpers/stdlib-harness.js';

const TOL = 1e-5;
const WITH_GROUPS = [...Object.keys(GROUP), ...Object.keys(TOKEN_LEVEL)];
const ALL = [...WITH_GROUPS, ...Object.keys(PREFERENCE)];
/** Bindings that hold batch-global denominators, fed whole to every micro-batch. */
const DENOMINATORS = ['loss.seqs', 'loss.tokens', 'loss.pairs', 'loss.chosen_tokens'];
/** Sorting across the batch couples pairs: their micro-batches cannot add up to the batch. */
const BATCH_COUPLED = ['aot', 'aot_pair'];

const close = (a: number, b: number, scale = 1): boolean => Math.abs(a - b) <= TOL * Math.max(Math.abs(b), scale * 1e-3);

describe('permuting the samples inside a group permutes the advantages', () => {
  for (const name of WITH_GROUPS) {
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 1000 }), fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }), async (seed, perm) => {
          const b = makeBatch({ B: 2, G: 4, T: 4, seed, reward: (r) => Math.round(4 * r()) / 4 });
          const p = stdlibPipeline(name);
          const base = await runPipeline(p, b);
          const moved = await runPipeline(p, permuteGroups(b, perm));
          expect(close(moved['loss']!.data[0]!, base['loss']!.data[0]!, 1)).toBe(true);
          const A0 = base['advantage']!.data;
          const A1 = moved['advantage']!.data;
          const per = A0.length / (b.B * b.G);
          for (let s = 0; s < b.B * b.G; s++) {
            const from = Math.floor(s / b.G) * b.G + perm[s % b.G]!;
            for (let t = 0; t < per; t++) expect(Math.abs(A1[s * per + t]! - A0[from * per + t]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(A0[from * per + t]!)));
          }
        }),
        { numRuns: 4, seed: 42 },
      );
    });
  }
});

describe('permuting the pairs of a preference batch permutes the per-pair losses', () => {
  for (const name of Object.keys(PREFERENCE).filter((n) => !BATCH_COUPLED.includes(n))) {
    it(name, async () => {
      const b = makeBatch({ B: 4, G: 2, T: 4, seed: 12 });
      const p = stdlibPipeline(name);
      const base = await runPipeline(p, b);
      // Reversing B: pair i moves to position B - 1 - i.
      const rev = (x: Float64Array, per: number): Float64Array => Float64Array.from(x, (_, i) => x[(b.B - 1 - Math.floor(i / per)) * per + (i % per)]!);
      const moved = await runPipeline(p, { ...b, logp: rev(b.logp, 2 * b.T), old_logp: rev(b.old_logp, 2 * b.T), ref_logp: rev(b.ref_logp, 2 * b.T), mask: rev(b.mask, 2 * b.T) });
      expect(close(moved['loss']!.data[0]!, base['loss']!.data[0]!, 1)).toBe(true);
      expect(firstMiss(moved['loss.losses']!.data, rev(base['loss.losses']!.data, 1), TOL)).toBeNull();
    });
  }
});

describe('padding more tokens (mask 0) changes nothing', () => {
  for (const name of ALL) {
    it(name, async () => {
      const pref = name in PREFERENCE;
      const b = makeBatch(pref ? { B: 3, G: 2, T: 4, seed: 5 } : { B: 2, G: 4, T: 4, seed: 5, reward: (r) => r() });
      const p = stdlibPipeline(name);
      const base = await runPipeline(p, b);
      const wide = await runPipeline(p, padMore(b, 3));
      expect(close(wide['loss']!.data[0]!, base['loss']!.data[0]!, 1), `loss ${wide['loss']!.data[0]} vs ${base['loss']!.data[0]}`).toBe(true);
      const g0 = base['grad.logp']!.data;
      const g1 = wide['grad.logp']!.data;
      const T1 = b.T + 3;
      const onOld = Array.from(g1).filter((_, i) => i % T1 < b.T);
      expect(firstMiss(onOld, g0, TOL)).toBeNull();
      expect(Array.from(g1).filter((_, i) => i % T1 >= b.T).every((v) => v === 0)).toBe(true);
      if (base['advantage'] !== undefined && base['advantage'].shape.length === 2) expect(firstMiss(wide['advantage']!.data, base['advantage'].data, TOL)).toBeNull();
    });
  }
});

describe('micro-batches with the global denominators add up to the whole batch', () => {
  for (const name of ALL.filter((n) => !BATCH_COUPLED.includes(n))) {
    for (const parts of [2, 4]) {
      it(`${name} in ${parts} micro-batches`, async () => {
        const pref = name in PREFERENCE;
        const B = 4;
        const b = makeBatch(pref ? { B, G: 2, T: 4, seed: 8 } : { B, G: 4, T: 4, seed: 8, reward: (r) => r() });
        const p = stdlibPipeline(name);
        const whole = await runPipeline(p, b);
        const shared: Record<string, number> = {};
        for (const d of DENOMINATORS) if (whole[d] !== undefined) shared[d] = whole[d].data[0]!;
        expect(Object.keys(shared).length).toBeGreaterThan(0);
        let loss = 0;
        const grads: number[] = [];
        const step = B / parts;
        for (let from = 0; from < B; from += step) {
          const mb = sliceBatch(b, from, from + step);
          const extra: Record<string, number | { shape: number[]; data: Float64Array }> = { ...shared };
          // Advantages are computed once on the whole batch (whitening is batch-global), then sliced.
          const advName = p.ir.outputs.filter((o) => o.name.startsWith('advantage.')).at(-1)?.name;
          if (advName !== undefined) {
            const a = whole['advantage']!;
            const per = a.data.length / B;
            extra[advName] = { shape: [step, ...a.shape.slice(1)], data: a.data.slice(from * per, (from + step) * per) };
          }
          const out = await runPipeline(p, mb, extra);
          loss += out['loss']!.data[0]!;
          grads.push(...out['grad.logp']!.data);
        }
        expect(close(loss, whole['loss']!.data[0]!, 1), `sum of micro-batch losses ${loss} vs ${whole['loss']!.data[0]}`).toBe(true);
        expect(firstMiss(grads, whole['grad.logp']!.data, TOL)).toBeNull();
      });
    }
  }
});
