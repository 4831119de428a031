/** A helper for declaring elementwise ops from their scalar semantics. */
import type { DType } from '../types.js';
import { defineOp, type InputKind, type LowerFn, type OpDef, type TorchFn, type Trait } from './define.js';
import { arithOf, combine } from './infer.js';

/** What an elementwise op needs to say about itself. */
export interface ElementwiseSpec {
  readonly name: string;
  readonly dsl: string | null;
  readonly summary: string;
  readonly inputs: readonly string[];
  /** Element kind the inputs accept (one for all, or one per input). */
  readonly accepts?: InputKind | readonly InputKind[];
  /** Result dtype: fixed, or 'arith' (i32 if all i32, else f32). */
  readonly result: DType | 'arith';
  readonly scalar: (...xs: number[]) => number;
  /** The TF.js lowering (inputs already aligned and cast). */
  readonly lower: LowerFn;
  /** The PyTorch form (inputs already aligned), as `OpDef.torch`. */
  readonly torch?: TorchFn;
  readonly grad?: (xs: readonly number[], g: number) => readonly number[];
  readonly product?: boolean;
  /** The TF.js lowering needs inputs of the output's full shape (its gradient does not reduce broadcasts). */
  readonly sameShape?: boolean;
  readonly commutative?: boolean;
  readonly examples?: readonly { readonly dsl: string; readonly out: number }[];
}

/** Declare an elementwise op. */
export function elementwise(s: ElementwiseSpec): OpDef {
  const traits: Trait[] = ['elementwise', 'pure'];
  if (s.commutative === true) traits.push('commutative');
  return defineOp({
    name: s.name,
    dsl: s.dsl,
    summary: s.summary,
    traits,
    inputs: s.inputs.map((name, i) => ({ name, kind: (typeof s.accepts === 'object' ? s.accepts[i] : s.accepts) ?? 'number' })),
    infer: (types, ctx) =>
      combine(types, ctx, { dtype: s.result === 'arith' ? arithOf(types) : s.result, product: s.product === true }),
    scalar: s.scalar,
    lower: s.lower,
    ...(s.torch !== undefined ? { torch: s.torch } : {}),
    ...(s.sameShape === true ? { sameShapeInputs: true } : {}),
    ...(s.grad !== undefined ? { grad: s.grad } : {}),
    ...(s.examples !== undefined ? { examples: s.examples } : {}),
  });
}
