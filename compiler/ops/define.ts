/**
 * The shape of an op declaration. An op is declared once: its DSL name, signature, type rule,
 * reference semantics (scalar function or reduction), gradient and docs. Passes read `traits`,
 * never op names; later phases (lowering, fusion) attach to the same declaration.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Label } from '../diagnostics/diagnostic.js';
import type { DType, TensorType, Type } from '../types.js';

/** `selects`: the result is input 1 where input 0 (a bool) holds, else input 2. */
export type Trait = 'elementwise' | 'reduction' | 'pure' | 'effect' | 'source' | 'commutative' | 'shape' | 'broadcast' | 'selects';

/** Attribute values stored on IR nodes. */
export type AttrValue = number | string | boolean | readonly string[];
export type Attrs = Readonly<Record<string, AttrValue>>;

/** What an input accepts: any tensor, numbers, bools, or a rank-0 scalar of those. */
export type InputKind = 'number' | 'bool' | 'any' | 'int-scalar' | 'number-scalar' | 'string' | 'const-number';

/** One positional/keyword input of an op. */
export interface InputSpec {
  readonly name: string;
  readonly kind: InputKind;
  /** A constant used when the argument is omitted (the input is then optional). */
  readonly default?: number | string | boolean;
}

/** Context of a type rule: lets it report errors against the call or one operand. */
export interface InferCtx {
  readonly attrs: Attrs;
  /** The canonical dimension order of the program (standard dims first). */
  readonly dimOrder: readonly string[];
  /** Report an error at the call (operand = undefined) or at operand i; returns null. */
  error(code: string, args: Readonly<Record<string, string | number>>, at?: { operand?: number; help?: string; labels?: Label[] }): null;
}

/** A plain array with named dims, as the reference interpreter holds values. */
export interface RefArray {
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Reference semantics of an op that is neither elementwise nor a reduction (float64, plain JS). */
/** `out.sizes`, when given, holds every dim's size (a fused body may expand over a dim its operands and result lack). */
export type ReferenceFn = (xs: readonly RefArray[], attrs: Attrs, out: { dims: readonly string[]; shape: readonly number[]; sizes?: ReadonlyMap<string, number> }) => RefArray;

/** Reference semantics of a reduction over a list of values with optional weights (the mask). */
export type ReduceFn = (xs: readonly number[], ws: readonly number[] | null, attrs: Attrs) => number;

/** The TF.js namespace as lowerings see it (types only: the compiler does not load TF.js). */
export type TF = typeof tfc;
export type Tensor = tfc.Tensor;

/**
 * What a lowering is told by the executor. Inputs arrive cast to the op's dtypes and, for
 * elementwise ops, aligned by name to the output's rank (missing dims are size-1 axes).
 */
export interface LowerCtx {
  /** For reductions and scans: the axes of input 0 named by `over`. */
  readonly axes: readonly number[];
  /** The runtime shape of the result. */
  readonly outShape: readonly number[];
  /** The runtime shape of input 0. */
  readonly inShape: readonly number[];
  /** The TF.js backend running the plan (`wasm`, `cpu`, `webgpu`...). */
  readonly backend: string;
  /** Where sources read from: params, fed inputs, state. */
  readonly env: LowerEnv;
  /** For each input: its value when the IR knows it at compile time (a numeric literal), else undefined. */
  readonly consts: readonly (number | undefined)[];
  /** The size of every dimension known to the run. */
  readonly sizes: ReadonlyMap<string, number>;
  /** For each input: whether a gradient may be asked of it (false: a custom gradient may skip it). */
  readonly needsGrad: readonly boolean[];
}

/** The values a run supplies to source ops. */
export interface LowerEnv {
  param(name: string): Tensor;
  input(name: string): Tensor;
  state(name: string): Tensor;
}

/**
 * JS source templates of an elementwise op, for generated kernels: its value and its partial
 * derivatives times `g`, as expressions over operand names (always plain identifiers). They
 * restate `scalar` and `grad`; test/compiler/ops/js-templates.test.ts holds them equal.
 */
export interface JsTemplate {
  readonly value: (xs: readonly string[]) => string;
  /** `y` names the op's own value at the same operands (so exp's derivative is g * y). */
  readonly grad: (xs: readonly string[], g: string, y: string) => readonly string[];
  /**
   * Scalar functions the expressions call by name (e.g. lgamma's `lgamma` and `digamma`), for
   * what is too long to inline; a generated kernel binds each name to its function.
   */
  readonly lib?: Readonly<Record<string, (x: number) => number>>;
}

/** Unfused TF.js lowering of an op. */
export type LowerFn = (tf: TF, xs: readonly Tensor[], attrs: Attrs, ctx: LowerCtx) => Tensor;

/**
 * What a PyTorch form is told by the exporter (`rlp export --target torch`). Input expressions
 * arrive aligned by dim name as for `lower` (elementwise and broadcast ops: to the output's dims;
 * a reduction's `where`: to input 0's dims). A param or constant arrives as a Python number.
 */
export interface TorchCtx {
  /** For reductions, scans and `take`: the axes of input 0 named by `over` (or `dim`). */
  readonly axes: readonly number[];
  /** Python expressions of the output's dim sizes (`B`, `G`...), for ops that make dims. */
  readonly outSizes: readonly string[];
  /** The Python expression of a dim's size. */
  size(dim: string): string;
  /** Input i as a tensor: a Python number is wrapped as `_t(x, like)`. */
  tensor(i: number): string;
  /** Whether input i is a Python number or bool rather than a tensor. */
  isNumber(i: number): boolean;
  /** Whether input i is a bool value (a comparison, a bool param). */
  isBool(i: number): boolean;
  /** A float tensor of the function whose dtype and device new tensors take. */
  readonly like: string;
}

/** PyTorch form of an op: one Python expression over its inputs' expressions (torch only). */
export type TorchFn = (xs: readonly string[], attrs: Attrs, ctx: TorchCtx) => string;

/** An op declaration. */
export interface OpDef {
  /** IR name, snake_case. */
  readonly name: string;
  /** The name callable from the DSL, or null for ops reached through syntax (operators, literals). */
  readonly dsl: string | null;
  readonly summary: string;
  readonly traits: readonly Trait[];
  readonly inputs: readonly InputSpec[];
  /** Whether the op takes `over` dims (reductions, expand) and `where` (masked reductions). */
  readonly over?: 'required' | 'none';
  readonly where?: boolean;
  /** The type rule. Returns null after reporting an error through ctx. */
  readonly infer: (inputs: readonly Type[], ctx: InferCtx) => Type | null;
  /** Reference semantics of an elementwise op, one element at a time. */
  readonly scalar?: (...xs: number[]) => number;
  /** Partial derivatives of an elementwise op at xs, each times the upstream gradient g. */
  readonly grad?: (xs: readonly number[], g: number) => readonly number[];
  /** Source templates of `scalar` and `grad` for generated kernels (elementwise ops). */
  readonly js?: JsTemplate;
  /** Reference semantics of a reduction. */
  readonly reduce?: ReduceFn;
  /** Reference semantics of any other op (shape ops, sorts, scans). */
  readonly reference?: ReferenceFn;
  /** The TF.js lowering; sources and effects are handled by the executor and have none. */
  readonly lower?: LowerFn;
  /**
   * The PyTorch form (`rlp export --target torch`), next to the TF.js lowering and with the same
   * semantics, gradients included. Python helpers it calls (`_mean`...) are in compiler/torch/prelude.ts.
   */
  readonly torch?: TorchFn;
  /** Worked examples: DSL text and expected result (checked in tests). */
  readonly examples?: readonly { readonly dsl: string; readonly out: number }[];
}

/** Freeze and return an op declaration. */
export function defineOp(def: OpDef): OpDef {
  return Object.freeze(def);
}

/** Narrow a type to a tensor, or null. */
export function asTensor(t: Type | undefined): TensorType | null {
  return t !== undefined && t.kind === 'tensor' ? t : null;
}

/** Dtype of a comparison/logic result, etc. */
export type DTypeRule = DType | 'arith' | 'same';
