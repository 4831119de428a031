/** Reductions over named dimensions, optionally weighted by a mask (`where`). */
import type { TensorType } from '../types.js';
import { defineOp, type OpDef, type ReduceFn } from './define.js';
import { reduceType } from './infer.js';

function weights(xs: readonly number[], ws: readonly number[] | null): number[] {
  return ws === null ? xs.map(() => 1) : [...ws];
}

const sumFn: ReduceFn = (xs, ws) => {
  const w = weights(xs, ws);
  let s = 0;
  for (let i = 0; i < xs.length; i++) if (w[i] !== 0) s += xs[i]! * w[i]!;
  return s;
};

const countFn: ReduceFn = (xs, ws) => weights(xs, ws).reduce((a, b) => a + b, 0);

/** Masked mean; 0 when nothing is selected (never 0/0). */
const meanFn: ReduceFn = (xs, ws, attrs) => {
  const n = countFn(xs, ws, attrs);
  return n === 0 ? 0 : sumFn(xs, ws, attrs) / n;
};

/** Variance with `correction` (1: unbiased, the default); 0 when n <= correction. */
const varFn: ReduceFn = (xs, ws, attrs) => {
  const n = countFn(xs, ws, attrs);
  const c = typeof attrs['correction'] === 'number' ? attrs['correction'] : 1;
  if (n - c <= 0) return 0;
  const m = meanFn(xs, ws, attrs);
  const w = weights(xs, ws);
  let s = 0;
  for (let i = 0; i < xs.length; i++) if (w[i] !== 0) s += w[i]! * (xs[i]! - m) ** 2;
  return s / (n - c);
};

const extremum = (pick: (a: number, b: number) => number, empty: number): ReduceFn => (xs, ws) => {
  const w = weights(xs, ws);
  let best = empty;
  for (let i = 0; i < xs.length; i++) if (w[i] !== 0) best = pick(best, xs[i]!);
  return best;
};

const f32 = (): 'f32' => 'f32';
const same = (x: TensorType): TensorType['dtype'] => (x.dtype === 'bool' ? 'f32' : x.dtype);

function reduction(name: string, dsl: string, summary: string, reduce: ReduceFn, dtype: (x: TensorType) => TensorType['dtype'], correction = false): OpDef {
  return defineOp({
    name, dsl, summary, traits: ['reduction', 'pure'],
    inputs: correction ? [{ name: 'x', kind: 'number' }, { name: 'correction', kind: 'const-number', default: 1 }] : [{ name: 'x', kind: 'number' }],
    over: 'required', where: true,
    infer: (types, ctx) => reduceType(types, ctx, dtype),
    reduce,
  });
}

export const sum = reduction('sum', 'sum', 'Sum over the named dims (of the entries where the mask is non-zero).', sumFn, same);
export const mean = reduction('mean', 'mean', 'Mean over the named dims; with `where m`, sum(x*m)/sum(m), and 0 when sum(m) is 0.', meanFn, f32);
export const variance = reduction('var', 'var', 'Variance over the named dims with `correction` (default 1: unbiased); 0 when n <= correction.', varFn, f32, true);
export const std = reduction('std', 'std', 'Standard deviation: sqrt(var(x, correction)); 0 when n <= correction.', (xs, ws, a) => Math.sqrt(varFn(xs, ws, a)), f32, true);
export const reduceMax = reduction('reduce_max', 'max', 'Maximum over the named dims (-inf when empty).', extremum(Math.max, -Infinity), same);
export const reduceMin = reduction('reduce_min', 'min', 'Minimum over the named dims (+inf when empty).', extremum(Math.min, Infinity), same);
export const count = reduction('count', 'count', 'Number of entries over the named dims (with `where m`: sum of m).', countFn, f32);
