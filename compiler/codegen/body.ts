/**
 * The body of a fused node: a small straight-line program over the node's inputs (its leaves),
 * stored on the node as the JSON attr `body`. Elementwise ops and `expand` compute one element
 * of the iteration space (the dims of the elementwise root); at most two trailing reductions
 * (`sum`, `mean`, `count`, optionally `where` a mask) reduce it, the second over what the first
 * left. Arguments refer to leaves (negative: leaf -(a + 1)) or earlier body nodes (index >= 0).
 */
import type { Attrs } from '../ops/define.js';
import type { DType, TensorType } from '../types.js';

/** One op of a fused body. */
export interface BodyNode {
  readonly op: string;
  readonly args: readonly number[];
  readonly attrs: Attrs;
  readonly type: TensorType;
}

/** A fused body. The last node is the root: its value is the fused node's value. */
export interface FusedBody {
  readonly leaves: readonly TensorType[];
  readonly nodes: readonly BodyNode[];
}

/** The reductions a fused body may end with. */
export const FUSABLE_REDUCTIONS: readonly string[] = Object.freeze(['sum', 'mean', 'count']);

/** Read a body back from its attr. */
export function parseBody(attr: unknown): FusedBody {
  if (typeof attr !== 'string') throw new Error('internal: a fused node without a body');
  return JSON.parse(attr) as FusedBody;
}

/** The attr form of a body (stable: same body, same string, so hash-consing still merges). */
export function bodyAttr(b: FusedBody): string {
  return JSON.stringify(b);
}

/** The dims of an argument. */
export function argType(b: FusedBody, a: number): TensorType {
  return a < 0 ? b.leaves[-a - 1]! : b.nodes[a]!.type;
}

/** Where the body's elementwise part ends and its reductions begin. */
export interface BodyShape {
  /** Index of the last elementwise node (every node before the first reduction is elementwise), or -1. */
  readonly elementRoot: number;
  /** The reductions at the root, innermost first (0, 1 or 2 of them). */
  readonly reductions: readonly number[];
  /** The iteration space: the dims of the first reduction's input, or of the root. */
  readonly dims: readonly string[];
}

/** Split a body into its elementwise part and trailing reductions (checked: throws on anything else). */
export function bodyShape(b: FusedBody): BodyShape {
  const reductions: number[] = [];
  let k = b.nodes.length - 1;
  while (k >= 0 && FUSABLE_REDUCTIONS.includes(b.nodes[k]!.op)) {
    reductions.unshift(k);
    const x = b.nodes[k]!.args[0]!;
    if (x >= 0 && FUSABLE_REDUCTIONS.includes(b.nodes[x]!.op) && x !== k - 1) throw new Error('internal: fused reductions must be consecutive');
    if (x < 0 || !FUSABLE_REDUCTIONS.includes(b.nodes[x]!.op)) break;
    k = x;
  }
  if (reductions.length > 2) throw new Error('internal: a fused body ends with at most two reductions');
  const first = reductions[0];
  const x0 = first === undefined ? b.nodes.length - 1 : b.nodes[first]!.args[0]!;
  const elementRoot = first === undefined ? b.nodes.length - 1 : first - 1;
  for (let k = 0; k <= elementRoot; k++) if (FUSABLE_REDUCTIONS.includes(b.nodes[k]!.op)) throw new Error('internal: a reduction inside a fused body');
  const dims = argType(b, x0).dims;
  if (reductions.length === 2) {
    const w = b.nodes[reductions[1]!]!.attrs['where'] === true ? b.nodes[reductions[1]!]!.args[1]! : null;
    if (w !== null && w >= 0) throw new Error('internal: the mask of a second fused reduction must be a leaf');
  }
  return { elementRoot, reductions, dims };
}

/** The TF.js dtype of a body dtype. */
export const TF_DTYPE: Readonly<Record<DType, 'float32' | 'int32' | 'bool'>> = { f32: 'float32', i32: 'int32', bool: 'bool' };

/** The kernel name `tf.profile` (and `rlp eval --profile`) gives a fused body's generated backward. */
export const FUSED_BACKWARD = 'FusedBackward';
