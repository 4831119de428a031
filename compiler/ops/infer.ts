/** Shared type rules: name-based broadcasting with the level rule, masks, reductions. */
import { formatType, LEVEL_DIMS, sortDims, tensor, type DType, type TensorType, type Type } from '../types.js';
import { asTensor, type InferCtx } from './define.js';

function levelDims(t: TensorType): string[] {
  return t.dims.filter((d) => LEVEL_DIMS.includes(d));
}

function isPrefix(short: readonly string[], long: readonly string[]): boolean {
  return short.every((d, i) => long[i] === d);
}

/** The first level dim that one side has and the other lacks, with the side that lacks it. */
function missingDim(a: readonly string[], b: readonly string[]): { dim: string; lacking: 0 | 1 } {
  for (const d of LEVEL_DIMS) {
    const inA = a.includes(d);
    const inB = b.includes(d);
    if (inA && !inB) return { dim: d, lacking: 1 };
    if (inB && !inA) return { dim: d, lacking: 0 };
  }
  return { dim: '?', lacking: 1 };
}

/** Options for combining operand types. */
export interface CombineOptions {
  readonly dtype: DType;
  /** The op is a product: zeros of a covering factor stay zero (`x * mask` clears padding). */
  readonly product?: boolean;
}

/**
 * Combine operand types by dimension name. A value combines implicitly with a finer one only when
 * its level dims (B, G, T) are a leading part of the other's; other dims broadcast freely.
 */
export function combine(types: readonly Type[], ctx: InferCtx, opts: CombineOptions): TensorType | null {
  const ts = types.map(asTensor);
  if (ts.some((t) => t === null)) return null;
  const tt = ts as TensorType[];
  let acc = tt[0]!;
  for (let i = 1; i < tt.length; i++) {
    const b = tt[i]!;
    const la = levelDims(acc);
    const lb = levelDims(b);
    if (!isPrefix(la, lb) && !isPrefix(lb, la)) {
      const m = missingDim(la, lb);
      const operand = m.lacking === 0 ? (i === 1 ? 0 : undefined) : i;
      return ctx.error('RLP3001', { left: formatType(acc), right: formatType(b), dim: m.dim }, {
        operand,
        help: `reduce the other side over \`${m.dim}\`, or spread this one explicitly with \`expand(x, over ${m.dim})\``,
      });
    }
    if (acc.mask !== null && b.mask !== null && acc.mask !== b.mask) {
      return ctx.error('RLP3016', { left: acc.mask, right: b.mask });
    }
    const dims = sortDims([...acc.dims, ...b.dims], ctx.dimOrder);
    let mask = acc.mask ?? b.mask;
    let covers: string | null = null;
    if (opts.product === true) {
      covers = acc.covers ?? b.covers;
      if (mask !== null && covers === mask && (acc.mask === null || b.mask === null)) mask = null;
    }
    acc = tensor(opts.dtype, dims, mask, covers);
  }
  return tensor(opts.dtype, acc.dims, acc.mask, acc.covers);
}

/** Arithmetic result dtype of operand types. */
export function arithOf(types: readonly Type[]): DType {
  const ds = types.map((t) => (t.kind === 'tensor' ? t.dtype : 'f32'));
  return ds.every((d) => d === 'i32') ? 'i32' : 'f32';
}

/** Type rule of a reduction `op(x, over dims, where w)`. */
export function reduceType(types: readonly Type[], ctx: InferCtx, dtype: (x: TensorType) => DType): TensorType | null {
  const x = asTensor(types[0]);
  if (x === null) return null;
  const over = (ctx.attrs['over'] as readonly string[] | undefined) ?? [];
  for (const d of over) {
    if (!x.dims.includes(d)) return ctx.error('RLP3002', { dim: d, type: formatType(x) }, { operand: 0 });
  }
  const hasWhere = ctx.attrs['where'] === true;
  if (x.mask !== null && !hasWhere) {
    return ctx.error('RLP3003', { dims: over.join(', '), mask: x.mask }, {
      help: `write \`where ${x.mask}\` as the last argument, e.g. \`mean(x, over [${over.join(', ')}], where ${x.mask})\``,
    });
  }
  if (hasWhere) {
    const w = asTensor(types[1]);
    if (w === null) return null;
    const extra = w.dims.find((d) => !x.dims.includes(d));
    if (extra !== undefined) {
      return ctx.error('RLP3001', { left: formatType(x), right: formatType(w), dim: extra }, { operand: 0 });
    }
    if (x.mask !== null && w.covers !== x.mask) return ctx.error('RLP3004', { mask: x.mask }, { operand: 1 });
  }
  const dims = x.dims.filter((d) => !over.includes(d));
  return tensor(dtype(x), dims, dims.includes('T') ? x.mask : null, null);
}
