/** Reductions over named dimensions, optionally weighted by a mask (`where`). */
import type { TensorType } from '../types.js';
import { defineOp, type LowerFn, type OpDef, type ReduceFn, type Tensor, type TF, type TorchFn } from './define.js';
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

// ---- TF.js lowerings. Masked entries are selected with `where`, never multiplied away, so
// garbage (even inf/NaN) in padding cannot leak into values or gradients. Denominators that
// can be zero are replaced before dividing, so no branch of a `where` produces inf or NaN.

/** x where the mask is non-zero (times the mask's weight), else 0. */
function masked(tf: TF, x: Tensor, w: Tensor | undefined): Tensor {
  return w === undefined ? x : tf.where(tf.notEqual(w, 0), tf.mul(x, w), tf.zerosLike(x));
}

function lowerCount(tf: TF, x: Tensor, w: Tensor | undefined, axes: number[], keep = false): Tensor {
  if (w !== undefined) return tf.sum(tf.broadcastTo(w, x.shape), axes, keep);
  const n = axes.reduce((a, i) => a * x.shape[i]!, 1);
  const shape = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  return tf.fill(shape, n, 'float32');
}

/** a / b where b != 0, else 0, with a gradient free of NaN. */
function safeDiv(tf: TF, a: Tensor, b: Tensor, ok: Tensor): Tensor {
  const safe = tf.where(ok, b, tf.onesLike(b));
  return tf.where(ok, tf.div(a, safe), tf.zerosLike(a));
}

function lowerMean(tf: TF, x: Tensor, w: Tensor | undefined, axes: number[], keep = false): Tensor {
  const n = lowerCount(tf, x, w, axes, keep);
  return safeDiv(tf, tf.sum(masked(tf, x, w), axes, keep), n, tf.notEqual(n, 0));
}

function lowerVar(tf: TF, x: Tensor, w: Tensor | undefined, axes: number[], correction: number): Tensor {
  const m = lowerMean(tf, x, w, axes, true);
  const d = tf.square(tf.sub(x, m));
  const n = tf.sub(lowerCount(tf, x, w, axes), correction);
  return safeDiv(tf, tf.sum(masked(tf, d, w), axes), n, tf.greater(n, 0));
}

function lowerExtremum(tf: TF, x: Tensor, w: Tensor | undefined, axes: number[], max: boolean): Tensor {
  const fill = tf.fill(x.shape, max ? -Infinity : Infinity, 'float32');
  const v = w === undefined ? x : tf.where(tf.notEqual(w, 0), x, fill);
  return max ? tf.max(v, axes) : tf.min(v, axes);
}

const ax = (a: readonly number[]): number[] => [...a];
const lowerSum: LowerFn = (tf, [x, w], _, c) => tf.sum(masked(tf, x!, w), ax(c.axes));
const lowerMeanFn: LowerFn = (tf, [x, w], _, c) => lowerMean(tf, x!, w, ax(c.axes));
const lowerVarFn: LowerFn = (tf, [x, w], a, c) => lowerVar(tf, x!, w, ax(c.axes), Number(a['correction'] ?? 1));
/**
 * sqrt(var), with gradient 0 (not inf * 0 = NaN) where the variance is 0. A custom gradient, so
 * the data-dependent test `v > 0` (which has no gradient in TF.js) stays off the tape.
 */
function safeSqrt(tf: TF, v: Tensor): Tensor {
  const root = (x: Tensor): [Tensor, Tensor] => {
    const pos = tf.greater(x, 0);
    return [pos, tf.where(pos, tf.sqrt(tf.where(pos, x, tf.onesLike(x))), tf.zerosLike(x))];
  };
  const f = tf.customGrad((...args) => {
    const x = args[0] as Tensor;
    const save = args[1] as (ts: Tensor[]) => void;
    save([x]);
    return {
      value: root(x)[1],
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [pos, r] = root(saved[0]!);
        return tf.where(pos, tf.div(tf.mul(dy as Tensor, 0.5), tf.where(pos, r, tf.onesLike(r))), tf.zerosLike(r));
      },
    };
  });
  return f(v);
}

const lowerStdFn: LowerFn = (tf, [x, w], a, c) => safeSqrt(tf, lowerVar(tf, x!, w, ax(c.axes), Number(a['correction'] ?? 1)));
const lowerMaxFn: LowerFn = (tf, [x, w], _, c) => lowerExtremum(tf, x!, w, ax(c.axes), true);
const lowerMinFn: LowerFn = (tf, [x, w], _, c) => lowerExtremum(tf, x!, w, ax(c.axes), false);
const lowerCountFn: LowerFn = (tf, [x, w], _, c) => lowerCount(tf, x!, w, ax(c.axes));

/**
 * A lowering that gives the reference's value over an empty axis (0 for sum, mean, var, std and
 * count; -inf/+inf for max/min) on every backend: TF.js wasm returns garbage there (`3.6e-41`),
 * cpu NaN for max. The value is the reference's own result on no entries.
 */
function emptySafe(reduce: ReduceFn, lower: LowerFn): LowerFn {
  return (tf, xs, attrs, c) => {
    const x = xs[0]!;
    const axes = ax(c.axes);
    if (x.size > 0) return lower(tf, xs, attrs, c);
    // No entries at all: over an empty reduced axis each output is the empty reduction; over an
    // empty kept axis the output is itself empty (wasm kernels divide by zero on empty inputs).
    const shape = x.shape.filter((_, i) => !axes.includes(i));
    const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
    return shape.some((d) => d === 0) ? tf.zeros(shape, dtype) : tf.fill(shape, reduce([], null, attrs), dtype);
  };
}

// ---- PyTorch forms: the Python helpers `_sum`, `_mean`... (compiler/torch/prelude.ts) select
// masked entries with `torch.where` and guard denominators exactly as the TF.js lowerings above.

/** A Python tuple: `()`, `(1,)`, `(0, 1)`. */
const pyTuple = (xs: readonly string[]): string => (xs.length === 1 ? `(${xs[0]!},)` : `(${xs.join(', ')})`);

/** `helper(x, (axes,), w[, correction])`; a bool x counts as 0/1 floats. */
const torchReduce = (helper: string, correction = false): TorchFn => (xs, a, c) => {
  const x = c.isBool(0) ? `${xs[0]!}.to(${c.like}.dtype)` : xs[0]!;
  const w = a['where'] === true ? `, ${xs[1]!}` : '';
  const corr = correction ? `, correction=${Number(a['correction'] ?? 1)}` : '';
  return `${helper}(${x}, ${pyTuple(c.axes.map(String))}${w}${corr})`;
};

/** Without `where`, a count is the product of the reduced dims' sizes: no data is read. */
const torchCount: TorchFn = (xs, a, c) => {
  if (a['where'] === true) return torchReduce('_count')(xs, a, c);
  const n = (a['over'] as readonly string[]).map((d) => c.size(d)).join(' * ');
  return `_full(${pyTuple(c.outSizes)}, ${n}, ${c.like})`;
};

function reduction(name: string, dsl: string, summary: string, reduce: ReduceFn, lower: LowerFn, dtype: (x: TensorType) => TensorType['dtype'], torch: TorchFn, correction = false): OpDef {
  lower = emptySafe(reduce, lower);
  return defineOp({
    name, dsl, summary, traits: ['reduction', 'pure'],
    inputs: correction ? [{ name: 'x', kind: 'number' }, { name: 'correction', kind: 'const-number', default: 1 }] : [{ name: 'x', kind: 'number' }],
    over: 'required', where: true,
    infer: (types, ctx) => reduceType(types, ctx, dtype),
    reduce,
    lower,
    torch,
  });
}

export const sum = reduction('sum', 'sum', 'Sum over the named dims (of the entries where the mask is non-zero).', sumFn, lowerSum, same, torchReduce('_sum'));
export const mean = reduction('mean', 'mean', 'Mean over the named dims; with `where m`, sum(x*m)/sum(m), and 0 when sum(m) is 0.', meanFn, lowerMeanFn, f32, torchReduce('_mean'));
export const variance = reduction('var', 'var', 'Variance over the named dims with `correction` (default 1: unbiased); 0 when n <= correction.', varFn, lowerVarFn, f32, torchReduce('_var', true), true);
export const std = reduction('std', 'std', 'Standard deviation: sqrt(var(x, correction)); 0 when n <= correction.', (xs, ws, a) => Math.sqrt(varFn(xs, ws, a)), lowerStdFn, f32, torchReduce('_std', true), true);
export const reduceMax = reduction('reduce_max', 'max', 'Maximum over the named dims (-inf when empty).', extremum(Math.max, -Infinity), lowerMaxFn, f32, torchReduce('_amax'));
export const reduceMin = reduction('reduce_min', 'min', 'Minimum over the named dims (+inf when empty).', extremum(Math.min, Infinity), lowerMinFn, f32, torchReduce('_amin'));
export const count = reduction('count', 'count', 'Number of entries over the named dims (with `where m`: sum of m).', countFn, lowerCountFn, f32, torchCount);
