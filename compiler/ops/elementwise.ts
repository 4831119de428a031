/** A helper for declaring elementwise ops from their scalar semantics. */
import type { DType } from '../types.js';
import { defineOp, type InputKind, type JsTemplate, type LowerFn, type OpDef, type TorchFn, type Trait, type WgslTemplate } from './define.js';
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
  /** `scalar` and `grad` as JS source templates (for generated kernels). */
  readonly js?: JsTemplate;
  /** `scalar` and `grad` as WGSL templates (for generated webgpu kernels). */
  readonly wgsl?: WgslTemplate;
  readonly product?: boolean;
  readonly commutative?: boolean;
  /** The op picks input 1 or input 2 by input 0 (`select`): constant folding may keep one branch. */
  readonly selects?: boolean;
  readonly examples?: readonly { readonly dsl: string; readonly out: number }[];
}

/** Declare an elementwise op. */
export function elementwise(s: ElementwiseSpec): OpDef {
  const traits: Trait[] = ['elementwise', 'pure'];
  if (s.commutative === true) traits.push('commutative');
  if (s.selects === true) traits.push('selects');
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
    ...(s.grad !== undefined ? { grad: s.grad } : {}),
    ...(s.js !== undefined ? { js: s.js } : {}),
    ...(s.wgsl !== undefined ? { wgsl: s.wgsl } : {}),
    ...(s.examples !== undefined ? { examples: s.examples } : {}),
  });
}
