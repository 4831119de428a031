/** Types of rlp values: tensors with a dtype, named dimensions and the mask they are valid under. */

export type DType = 'f32' | 'i32' | 'bool';

/** A tensor: dtype, named dims in canonical order, and padding information. */
export interface TensorType {
  readonly kind: 'tensor';
  readonly dtype: DType;
  readonly dims: readonly string[];
  /** The mask this value is padded under (its entries outside the mask are garbage), or null. */
  readonly mask: string | null;
  /** The mask this value is zero outside of (it can serve as `where` for that mask), or null. */
  readonly covers: string | null;
}

/** Non-tensor values: strings (params, options) and the opaque result of sampling. */
export interface OtherType {
  readonly kind: 'string' | 'rollout';
}

export type Type = TensorType | OtherType;

/** The standard dimensions, coarsest first: prompts, samples per prompt, tokens, vocabulary. */
export const STANDARD_DIMS: readonly string[] = Object.freeze(['B', 'G', 'T', 'V']);
/** The level hierarchy: a value may combine implicitly with a finer one if its dims are a prefix. */
export const LEVEL_DIMS: readonly string[] = Object.freeze(['B', 'G', 'T']);

export type Level = 'batch' | 'group' | 'sequence' | 'token';

/** Make a tensor type. */
export function tensor(dtype: DType, dims: readonly string[] = [], mask: string | null = null, covers: string | null = null): TensorType {
  return { kind: 'tensor', dtype, dims, mask, covers };
}

export const STRING: OtherType = Object.freeze({ kind: 'string' });
export const ROLLOUT: OtherType = Object.freeze({ kind: 'rollout' });

/** The level of a value: token if it has T, sequence if G, group if B, else batch. */
export function levelOf(t: TensorType): Level {
  if (t.dims.includes('T')) return 'token';
  if (t.dims.includes('G')) return 'sequence';
  if (t.dims.includes('B')) return 'group';
  return 'batch';
}

/** Order dims canonically: by their index in `order` (standard dims first, then declared ones). */
export function sortDims(dims: Iterable<string>, order: readonly string[]): string[] {
  const uniq = [...new Set(dims)];
  const rank = (d: string): number => {
    const i = order.indexOf(d);
    return i < 0 ? order.length : i;
  };
  return uniq.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** `f32[B,G,T]`, `i32`, `string`. */
export function formatType(t: Type): string {
  if (t.kind !== 'tensor') return t.kind;
  return t.dims.length === 0 ? t.dtype : `${t.dtype}[${t.dims.join(',')}]`;
}

/** The IR form, with padding: `f32[B,G,T]@mask`. */
export function formatTypeFull(t: Type): string {
  if (t.kind !== 'tensor') return t.kind;
  const pad = t.mask !== null ? `@${t.mask}` : '';
  const cov = t.covers !== null ? `!${t.covers}` : '';
  return formatType(t) + pad + cov;
}

/** Structural equality of types. */
export function sameType(a: Type, b: Type): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind !== 'tensor' || b.kind !== 'tensor') return true;
  return a.dtype === b.dtype && a.mask === b.mask && a.covers === b.covers && a.dims.join(',') === b.dims.join(',');
}

/** Promote dtypes for arithmetic: bool and i32 widen to f32 unless both are i32. */
export function arithDType(a: DType, b: DType): DType {
  return a === 'i32' && b === 'i32' ? 'i32' : 'f32';
}
