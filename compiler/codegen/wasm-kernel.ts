/**
 * Generated WebAssembly kernels for fused bodies on the `wasm` backend: the loop over the
 * iteration space of compiler/codegen/js-kernel.ts, compiled to 128-bit SIMD (two float64
 * lanes), reading the tensors where the TF.js wasm backend keeps them (its heap, imported as the
 * module's memory) and writing results and saved gradients there.
 *
 * Why not the JS kernel: a fused loss's element code is full of data-dependent choices (clip,
 * min, the surrogate's branch, their derivatives' selects). V8 compiles `Math.min` and `c ? a : b`
 * to branches, which the random ratios of a batch mispredict about half the time; the JS
 * kernel of DAPO's loss took 5.5 ms on 262,144 tokens, 2.5 ms when its branches were predictable.
 * Here every choice is a `v128.bitselect` and every `min`/`max` an `f64x2.min`/`max` (both with
 * JavaScript's NaN and signed-zero semantics), two elements per instruction.
 *
 * One source: element values and local derivatives are the ops' JS templates (`OpDef.js`),
 * parsed (compiler/codegen/js-expr.ts) and compiled here; what the templates use and this
 * compiler does not (`Math.log`, `**`, library functions other than `fexp`...) makes the body
 * unsupported, and the JS kernel runs it. The arithmetic is float64, as the JS kernel's: results
 * agree with it up to float64 rounding (sums are accumulated in two lanes; `fexp` is replaced by
 * an exp of its own, within a few ulp of `Math.exp`), which float32 storage hides.
 *
 * Covered: bodies over float32/int32 leaves with a non-empty iteration space, either without
 * reductions (an f32 result over the space) or with the first reduction over the innermost dims
 * (the usual T; a second reduction and the results are the JS kernel's `finish`); the forward
 * pass, its forward-saved variant and the saved backward (seed x saved derivative). The
 * recomputing backward stays the JS kernel's, on the state this forward pass returns.
 */
import type { JsTemplate } from '../ops/define.js';
import { opByName } from '../ops/index.js';
import { bodyShape, type FusedBody } from './body.js';
import { parseExpr, type Expr } from './js-expr.js';
import type { ForwardState, HostArray, JsKernel, WritableArray } from './js-kernel.js';
import { assemble, FnBuilder, I32, V128, type ValType } from './wasm-asm.js';

/** The memory the tensors live in, and its allocator (the TF.js wasm backend's `_malloc`/`_free`). */
export interface WasmHeap {
  readonly memory: WebAssembly.Memory;
  malloc(bytes: number): number;
  free(ptr: number): void;
}

/** A forward state whose saved derivatives live in the heap (byte offsets by leaf; -1: none). */
interface HeapState extends ForwardState {
  readonly heapJac?: readonly number[];
}

/** A compiled body at fixed sizes, run on a heap. */
export interface WasmKernel {
  /** The JS kernel of the same body: its `finish`, `seedD1` and recomputing backward are used here. */
  readonly js: JsKernel;
  /**
   * The forward pass: `leaves` are byte offsets of the leaves' data in the heap, `out` of the
   * result's (float32; written here); `views` gives the leaves' and the result's arrays (taken
   * after every allocation) for the JS part. With `saveGrad`, the saved derivatives stay in the
   * heap until the backward pass reads them.
   */
  forward(heap: WasmHeap, leaves: readonly number[], out: number, views: () => { leaves: HostArray[]; out: WritableArray }, saveGrad: boolean): ForwardState;
  /**
   * The saved backward into float32 arrays at `into` (byte offsets, by leaf; -1 for leaves not
   * asked); false when `st` has no saved derivatives here (the caller then runs the JS kernel's
   * backward). `dy` is the result's adjoint (float32, at a byte offset); `views` as for forward.
   */
  backward(heap: WasmHeap, leaves: readonly number[], st: ForwardState, dy: number, into: readonly number[], views: () => { leaves: HostArray[]; dy: HostArray }): boolean;
  /** The module, for inspection and tests. */
  readonly binary: Uint8Array<ArrayBuffer>;
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** 1 / k!, k = 0..13: the Taylor polynomial of e^r on |r| <= ln2 / 2 (truncation below 5e-18 relative). */
const EXP_COEF = Array.from({ length: 14 }, (_, k) => 1 / prod(Array.from({ length: k }, (_, j) => j + 1)));
/** ln 2 split with trailing zero bits in the high part (n * LN2_HI is exact for |n| < 2^20), fdlibm's. */
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;

/** Why a body cannot be compiled here (null: it can). */
export function wasmUnsupported(body: FusedBody, sizes: ReadonlyMap<string, number>): string | null {
  try {
    planOf(body, sizes);
    return null;
  } catch (e) {
    if (e instanceof Unsupported) return e.message;
    throw e;
  }
}

class Unsupported extends Error {}

interface Plan {
  readonly space: readonly string[];
  readonly n: readonly number[];
  readonly red1: { readonly op: string; readonly k1: number } | null;
  readonly x0: number;
  readonly w1: number | null;
  readonly values: readonly (Expr | null)[];
  readonly templates: readonly (JsTemplate | undefined)[];
}

function planOf(body: FusedBody, sizes: ReadonlyMap<string, number>): Plan {
  const shape = bodyShape(body);
  const space = shape.dims;
  if (space.length === 0) throw new Unsupported('a scalar iteration space');
  const n = space.map((d) => {
    const s = sizes.get(d);
    if (s === undefined) throw new Error(`no size is known for dimension \`${d}\``);
    return s;
  });
  if (n.some((s) => s === 0)) throw new Unsupported('an empty iteration space');
  if (prod(n) * 8 >= 2 ** 31) throw new Unsupported('too large for 32-bit offsets');
  for (const l of body.leaves) if (l.dtype !== 'f32' && l.dtype !== 'i32') throw new Unsupported(`a ${l.dtype} leaf`);
  const r1 = shape.reductions[0];
  const red1 = r1 === undefined ? null : body.nodes[r1]!;
  const x0 = red1 === null ? body.nodes.length - 1 : red1.args[0]!;
  let k1 = 0;
  if (red1 !== null) {
    k1 = red1.type.dims.length;
    if (!space.slice(0, k1).every((d, i) => red1.type.dims[i] === d)) throw new Unsupported('a reduction over outer dims');
  } else if (body.nodes[body.nodes.length - 1]!.type.dtype !== 'f32') {
    throw new Unsupported('a result that is not f32');
  }
  const values: (Expr | null)[] = [];
  const templates: (JsTemplate | undefined)[] = [];
  for (let k = 0; k <= shape.elementRoot; k++) {
    const node = body.nodes[k]!;
    const t = opByName(node.op)?.js;
    templates.push(t);
    if (node.op === 'expand') {
      values.push(null);
      continue;
    }
    if (t === undefined) throw new Unsupported(`no template for ${node.op}`);
    values.push(check(parseExpr(t.value(node.args.map(argName)))));
  }
  const w1 = red1 !== null && red1.attrs['where'] === true ? red1.args[1]! : null;
  return { space, n, red1: red1 === null ? null : { op: red1.op, k1 }, x0, w1, values, templates };
}

const argName = (a: number): string => (a < 0 ? `x${-a - 1}` : `v${a}`);

const CALLS: Readonly<Record<string, string>> = { 'Math.min': 'f64x2.min', 'Math.max': 'f64x2.max', 'Math.abs': 'f64x2.abs', 'Math.sqrt': 'f64x2.sqrt', 'Math.floor': 'f64x2.floor', fexp: 'exp' };
const COMPARE: Readonly<Record<string, string>> = { '<': 'f64x2.lt', '<=': 'f64x2.le', '>': 'f64x2.gt', '>=': 'f64x2.ge', '===': 'f64x2.eq', '!==': 'f64x2.ne' };
const ARITH: Readonly<Record<string, string>> = { '+': 'f64x2.add', '-': 'f64x2.sub', '*': 'f64x2.mul', '/': 'f64x2.div' };

type Kind = 'num' | 'bool';

/** The kind of an expression; throws Unsupported for what this compiler does not cover. */
function kindOf(e: Expr): Kind {
  switch (e.k) {
    case 'num':
    case 'id':
      return 'num';
    case 'neg':
      if (kindOf(e.a) !== 'num') throw new Unsupported('negating a boolean');
      return 'num';
    case 'bin': {
      const a = kindOf(e.a);
      const b = kindOf(e.b);
      if (e.op === '&&' || e.op === '||') {
        if (a !== 'bool' || b !== 'bool') throw new Unsupported(`${e.op} of numbers`);
        return 'bool';
      }
      if (a !== 'num' || b !== 'num') throw new Unsupported(`${e.op} of booleans`);
      if (COMPARE[e.op] !== undefined) return 'bool';
      if (ARITH[e.op] !== undefined) return 'num';
      throw new Unsupported(`the operator ${e.op}`);
    }
    case 'cond': {
      if (kindOf(e.c) !== 'bool') throw new Unsupported('a numeric condition');
      const a = kindOf(e.a);
      if (a !== kindOf(e.b)) throw new Unsupported('a conditional of mixed kinds');
      return a;
    }
    case 'call': {
      const f = CALLS[e.f];
      if (f === undefined) throw new Unsupported(`the function ${e.f}`);
      const arity = f === 'f64x2.min' || f === 'f64x2.max' ? 2 : 1;
      if (e.args.length !== arity || e.args.some((x) => kindOf(x) !== 'num')) throw new Unsupported(`${e.f} with these arguments`);
      return 'num';
    }
  }
}

/**
 * Whether `e` is +-0 wherever the adjoint named `adj` is +-0, whatever the other values (NaN and
 * infinities included): the adjoint itself, negated, scaled by a finite literal, or a choice
 * between such and the literal 0.
 */
function zeroPreserving(e: Expr, adj: string): boolean {
  switch (e.k) {
    case 'id':
      return e.name === adj;
    case 'num':
      return e.v === 0;
    case 'neg':
      return zeroPreserving(e.a, adj);
    case 'cond':
      return zeroPreserving(e.a, adj) && zeroPreserving(e.b, adj);
    case 'bin':
      if (e.op === '*') return (zeroPreserving(e.a, adj) && e.b.k === 'num' && Number.isFinite(e.b.v)) || (zeroPreserving(e.b, adj) && e.a.k === 'num' && Number.isFinite(e.a.v));
      if (e.op === '/') return zeroPreserving(e.a, adj) && e.b.k === 'num' && e.b.v !== 0 && Number.isFinite(e.b.v);
      return false;
    default:
      return false;
  }
}

function check(e: Expr): Expr {
  if (kindOf(e) !== 'num') throw new Unsupported('a boolean value');
  return e;
}

/** Emits expressions into a function, with names bound to v128 locals. */
class ExprEmitter {
  private tmp: { x: number; n: number; r: number; r2: number; r4: number; r8: number; p: number; i: number; n1: number } | null = null;

  constructor(private readonly f: FnBuilder, private readonly names: Map<string, number>) {}

  emit(e: Expr): void {
    const f = this.f;
    switch (e.k) {
      case 'num':
        f.f64x2(e.v);
        return;
      case 'id': {
        const l = this.names.get(e.name);
        if (l === undefined) throw new Error(`internal: unbound ${e.name} in a wasm kernel`);
        f.get(l);
        return;
      }
      case 'neg':
        this.emit(e.a);
        f.op('f64x2.neg');
        return;
      case 'bin':
        this.emit(e.a);
        this.emit(e.b);
        f.op(e.op === '&&' ? 'v128.and' : e.op === '||' ? 'v128.or' : (COMPARE[e.op] ?? ARITH[e.op])!);
        return;
      case 'cond':
        this.emit(e.a);
        this.emit(e.b);
        this.emit(e.c);
        f.op('v128.bitselect');
        return;
      case 'call': {
        for (const a of e.args) this.emit(a);
        const op = CALLS[e.f]!;
        if (op === 'exp') this.exp();
        else if (op === 'f64x2.min') this.min(false);
        else if (op === 'f64x2.max') this.min(true);
        else f.op(op);
        return;
      }
    }
  }

  /**
   * Math.min of the two values on the stack (Math.max as -min(-a, -b) when `max`), exactly:
   * NaN when either is NaN, and -0 below +0. pmin(a, b) | pmin(b, a): where a < b both give
   * a; on a tie of zeros one gives -0 and the OR keeps its sign; a NaN in either lane survives
   * the OR (its exponent and a mantissa bit stay set). Three instructions where V8's
   * `f64x2.min` (which also makes NaNs canonical, which nothing here can observe) takes seven.
   */
  private min(max: boolean): void {
    const f = this.f;
    const a = f.local(V128);
    const b = f.local(V128);
    if (max) f.op('f64x2.neg');
    f.set(b);
    if (max) f.op('f64x2.neg');
    f.set(a);
    f.get(a).get(b).op('f64x2.pmin').get(b).get(a).op('f64x2.pmin').op('v128.or');
    if (max) f.op('f64x2.neg');
  }

  /**
   * e^x of the value on the stack: x = n ln2 + r (|r| <= ln2/2), e^r by its Taylor polynomial,
   * times 2^n built in the exponent bits as 2^(n >> 1) 2^(n - (n >> 1)) so that results down to
   * the subnormals and up to overflow come out rounded once. x is first clamped to [-746, 710]
   * (beyond them e^x is 0 or Infinity); NaN stays NaN. n is rounded by adding 1.5 * 2^52 (its
   * bits then hold n: no float-to-integer conversion, which V8 compiles to long sequences).
   */
  private exp(): void {
    const f = this.f;
    const t = (this.tmp ??= { x: f.local(V128), n: f.local(V128), r: f.local(V128), r2: f.local(V128), r4: f.local(V128), r8: f.local(V128), p: f.local(V128), i: f.local(V128), n1: f.local(V128) });
    // pmin/pmax with x first: a NaN x stays NaN (the comparison is false).
    f.f64x2(710).op('f64x2.pmin').f64x2(-746).op('f64x2.pmax').set(t.x);
    // t.i = x / ln2 + ROUND (its bits: ROUND's + n), t.n = n
    f.get(t.x).f64x2(1 / Math.LN2).op('f64x2.mul').f64x2(ROUND).op('f64x2.add').tee(t.i).f64x2(ROUND).op('f64x2.sub').set(t.n);
    f.get(t.x).get(t.n).f64x2(LN2_HI).op('f64x2.mul').op('f64x2.sub').get(t.n).f64x2(LN2_LO).op('f64x2.mul').op('f64x2.sub').set(t.r);
    // The polynomial by Estrin's scheme: a short chain of dependent operations (Horner's 13
    // dependent multiply-adds made the loop latency-bound, 3x slower).
    f.get(t.r).get(t.r).op('f64x2.mul').tee(t.r2).get(t.r2).op('f64x2.mul').tee(t.r4).get(t.r4).op('f64x2.mul').set(t.r8);
    const pair = (j: number): void => void f.get(t.r).f64x2(EXP_COEF[j + 1]!).op('f64x2.mul').f64x2(EXP_COEF[j]!).op('f64x2.add');
    const quad = (j: number): void => {
      pair(j);
      if (j + 2 <= 13) {
        pair(j + 2);
        f.get(t.r2).op('f64x2.mul').op('f64x2.add');
      }
    };
    quad(0);
    quad(4);
    f.get(t.r4).op('f64x2.mul').op('f64x2.add');
    quad(8);
    pair(12);
    f.get(t.r4).op('f64x2.mul').op('f64x2.add');
    f.get(t.r8).op('f64x2.mul').op('f64x2.add');
    f.set(t.p);
    // t.n1 = floor(n / 2) + ROUND; 2^(n1) = (bits(t.n1) - bits(ROUND) + 1023) << 52, 2^(n - n1) = (bits(t.i) - bits(t.n1) + 1023) << 52
    f.get(t.n).f64x2(0.5).op('f64x2.mul').op('f64x2.floor').f64x2(ROUND).op('f64x2.add').set(t.n1);
    f.get(t.n1).v128Bytes(i64x2(1023n - ROUND_BITS)).op('i64x2.add').i32(52).op('i64x2.shl').get(t.p).op('f64x2.mul');
    f.get(t.i).get(t.n1).op('i64x2.sub').v128Bytes(i64x2(1023n)).op('i64x2.add').i32(52).op('i64x2.shl').op('f64x2.mul');
  }
}

/** 1.5 * 2^52: adding it rounds a double below 2^51 in magnitude to an integer, held in the low bits. */
const ROUND = 6755399441055744;
const ROUND_BITS = new BigInt64Array(new Float64Array([ROUND]).buffer)[0]!;

/** The bytes of an i64x2 constant with both lanes `v` (wrapped to 64 bits). */
function i64x2(v: bigint): Uint8Array {
  return new Uint8Array(new BigInt64Array([BigInt.asIntN(64, v), BigInt.asIntN(64, v)]).buffer);
}

/**
 * The saved derivative of each wanted leaf when it is a number independent of the element (every
 * path from the reduced value to the leaf goes through parts that pass the adjoint on unchanged
 * or negated), else null.
 */
function constantJacobian(x0: number, sweep: readonly { k: number; parts: readonly { to: number; e: Expr }[] }[], wanted: readonly number[]): number[] | null {
  const coef = new Map<number, number | null>([[x0, 1]]);
  const add = (to: number, c: number | null): void => {
    const old = coef.get(to);
    coef.set(to, old === undefined ? c : old === null || c === null ? null : old + c);
  };
  for (const s of sweep) {
    const c = coef.get(s.k);
    if (c === undefined) continue;
    for (const p of s.parts) {
      const e = p.e;
      const self = (x: Expr): boolean => x.k === 'id' && x.name === `a${s.k}`;
      add(p.to, c === null ? null : self(e) ? c : e.k === 'neg' && self(e.a) ? -c : null);
    }
  }
  const out = wanted.map((l) => coef.get(-l - 1));
  return out.every((c) => typeof c === 'number') ? (out as number[]) : null;
}

/** Σ over the outer loops j < upTo of idx[j] * stride[j], an i32 on the stack. */
function offsetOf(f: FnBuilder, idx: readonly number[], stride: readonly number[], upTo: number): void {
  let any = false;
  for (let j = 0; j < upTo; j++) {
    if (stride[j] === 0) continue;
    f.get(idx[j]!).i32(stride[j]!).op('i32.mul');
    if (any) f.op('i32.add');
    any = true;
  }
  if (!any) f.i32(0);
}

/** for (i = from; i < to; i += step) body(), for from < to (sizes are baked in: the test is at the end). */
function countedLoop(f: FnBuilder, i: number, from: number, to: number, step: number, body: () => void): void {
  f.i32(from).set(i);
  f.block().loop();
  body();
  f.get(i).i32(step).op('i32.add').tee(i).i32(to).op('i32.lt_s').brIf(0);
  f.end().end();
}

/** The innermost dim's loop: two elements at a time, then a one-element tail when its size is odd. */
function pairLoop(f: FnBuilder, i: number, size: number, body: (tail: boolean) => void): void {
  const pairs = Math.floor(size / 2);
  if (pairs > 0) countedLoop(f, i, 0, 2 * pairs, 2, () => body(false));
  if (size % 2 === 1) {
    f.i32(size - 1).set(i);
    body(true);
  }
}

/** Lane masks: both lanes, and the first only (a tail of one element). */
const LANES = { pair: new Uint8Array(16).fill(0xff), first: Uint8Array.from({ length: 16 }, (_, i) => (i < 8 ? 0xff : 0)) };

/**
 * Compile a body at these sizes, or return null when it is not covered (`wasmUnsupported`).
 * `js` is the JS kernel of the same body, sizes and asked gradients.
 */
export function compileWasmKernel(body: FusedBody, sizes: ReadonlyMap<string, number>, js: JsKernel, needsGrad?: readonly boolean[]): WasmKernel | null {
  let plan: Plan;
  try {
    plan = planOf(body, sizes);
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
  const { space, n, red1, x0, w1 } = plan;
  const k = space.length;
  const inner = n[k - 1]!;
  const L = body.leaves.length;
  const leafEl = body.leaves.map((t) => (t.dtype === 'f32' ? 'f32' : 'i32'));
  // Byte strides of a leaf along each space dim (0 where it lacks the dim).
  const leafStride = body.leaves.map((t) => space.map((d) => {
    const i = t.dims.indexOf(d);
    return i < 0 ? 0 : 4 * prod(t.dims.slice(i + 1).map((x) => sizes.get(x)!));
  }));
  const hasInner = body.leaves.map((_, l) => leafStride[l]![k - 1] !== 0);
  const dimDepth = (dims: readonly string[]): number => Math.max(0, ...dims.map((d) => space.indexOf(d) + 1));
  const nodeDepth: number[] = [];
  const depthOf = (a: number): number => (a < 0 ? dimDepth(body.leaves[-a - 1]!.dims) : nodeDepth[a]!);
  for (let j = 0; j < plan.values.length; j++) nodeDepth.push(Math.max(0, ...body.nodes[j]!.args.map(depthOf)));
  const elementRoot = plan.values.length - 1;

  // ---- saved-gradient analysis (as the JS kernel's)
  const differentiable = body.leaves.map((t, l) => t.dtype === 'f32' && needsGrad?.[l] !== false);
  const liveNode: boolean[] = [];
  const liveArg = (a: number): boolean => (a < 0 ? differentiable[-a - 1]! : liveNode[a]!);
  for (let j = 0; j <= elementRoot; j++) liveNode.push(body.nodes[j]!.args.some(liveArg));
  const wanted = body.leaves.map((_, l) => l).filter((l) => differentiable[l]);
  const saves = js.savesGrad;
  // The sweep's parts, parsed once (null: a saved sweep this compiler does not cover).
  let sweep: { k: number; parts: { to: number; e: Expr }[] }[] | null = null;
  if (saves) {
    try {
      sweep = [];
      for (let j = elementRoot; j >= 0; j--) {
        if (!liveNode[j]) continue;
        const node = body.nodes[j]!;
        const t = plan.templates[j];
        const parts = node.op === 'expand' ? [`a${j}`] : t!.grad(node.args.map(argName), `a${j}`, `v${j}`);
        const list: { to: number; e: Expr }[] = [];
        node.args.forEach((a, i) => {
          if (parts[i] === '0' || !liveArg(a)) return;
          list.push({ to: a, e: check(parseExpr(parts[i]!)) });
        });
        sweep.push({ k: j, parts: list });
      }
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      sweep = null;
    }
  }
  const savedHere = saves && sweep !== null;
  // Where the saved derivative is one number everywhere (the reduced value is a leaf, or a leaf
  // through adds, subtracts and negations: d(logp - old_logp)/d logp = 1), nothing is saved and
  // the backward pass multiplies by that number.
  const constJac = savedHere ? constantJacobian(x0, sweep!, wanted) : null;

  // Byte strides of the first reduction's outputs (float64) along the outer dims it keeps.
  const oStride = red1 === null ? [] : space.map((_, j) => (j < red1.k1 ? 8 * prod(n.slice(j + 1, red1.k1)) : 0));

  // ---- the forward function: (leaf pointers..., out, s1, c1, jac pointers of wanted leaves...)
  const makeForward = (save: boolean): FnBuilder => {
    const params = [...body.leaves.map(() => I32), I32, I32, I32, ...(save ? wanted.map(() => I32) : [])];
    const f = new FnBuilder(params as ValType[]);
    const P = { out: L, s1: L + 1, c1: L + 2, jac: (w: number) => L + 3 + wanted.indexOf(w) };
    const idx = space.map(() => f.local(I32));
    const base = body.leaves.map(() => f.local(I32));
    const outBase = f.local(I32);
    const jacBase = wanted.map(() => f.local(I32));
    const names = new Map<string, number>();
    const xs = body.leaves.map((_, l) => {
      const v = f.local(V128);
      names.set(`x${l}`, v);
      return v;
    });
    const vs = plan.values.map((_, j) => {
      const v = f.local(V128);
      names.set(`v${j}`, v);
      return v;
    });
    const adj = save ? plan.values.map((_, j) => {
      const v = f.local(V128);
      names.set(`a${j}`, v);
      return v;
    }) : [];
    const q = save ? body.leaves.map(() => f.local(V128)) : [];
    const sAcc = f.local(V128);
    const cAcc = f.local(V128);
    const cond = f.local(V128);
    const em = new ExprEmitter(f, names);
    const valueOf = (a: number): number => (a < 0 ? xs[-a - 1]! : vs[a]!);
    const outerSum = (stride: readonly number[], upTo: number): void => offsetOf(f, idx, stride, upTo);
    const elemStride = (bytes: number): number[] => space.map((_, j) => bytes * prod(n.slice(j + 1)));
    const loadLeaf = (l: number, tail: boolean): void => {
      if (!hasInner[l]) return;
      f.get(base[l]!).get(idx[k - 1]!).i32(2).op('i32.shl').op('i32.add');
      f.mem(tail ? 'v128.load32_zero' : 'v128.load64_zero');
      f.op(leafEl[l] === 'f32' ? 'f64x2.promote_low_f32x4' : 'f64x2.convert_low_i32x4_s');
      f.set(xs[l]!);
    };
    const splatLeaf = (l: number): void => {
      f.get(base[l]!).mem(leafEl[l] === 'f32' ? 'f32.load' : 'i32.load');
      if (leafEl[l] === 'f32') f.op('f64.promote_f32');
      else f.op('f64.convert_i32_s');
      f.op('f64x2.splat').set(xs[l]!);
    };
    const computeNode = (j: number): void => {
      const e = plan.values[j];
      if (e === null || e === undefined) f.get(valueOf(body.nodes[j]!.args[0]!));
      else em.emit(e);
      f.set(vs[j]!);
    };
    const lanes = (tail: boolean): Uint8Array => (tail ? LANES.first : LANES.pair);
    // Elements outside the reduction's mask (a leaf over the innermost dim) add nothing: where
    // both lanes are out, nothing is computed (masks are runs of ones then zeros, so the branch
    // is predictable), as the JS kernel skips them one by one. Their saved derivatives are not
    // written either: the backward pass's seed there is 0, and it selects 0 without them.
    const maskLeaf = w1 !== null && w1 < 0 && hasInner[-w1 - 1] ? -w1 - 1 : null;
    const elementBody = (tail: boolean): void => {
      if (maskLeaf !== null) {
        loadLeaf(maskLeaf, tail);
        f.get(xs[maskLeaf]!).op('v128.any_true').if();
      }
      for (let l = 0; l < L; l++) if (l !== maskLeaf) loadLeaf(l, tail);
      for (let j = 0; j <= elementRoot; j++) if (nodeDepth[j] === k) computeNode(j);
      if (red1 === null) {
        f.get(outBase).get(idx[k - 1]!).i32(2).op('i32.shl').op('i32.add');
        f.get(valueOf(x0)).op('f32x4.demote_f64x2_zero');
        if (tail) f.storeLane('v128.store32_lane', 0);
        else f.storeLane('v128.store64_lane', 0);
      } else {
        // s += w != 0 ? x0 * w : 0; c += w != 0 ? w : 0 (over the lanes in use)
        if (w1 === null) {
          f.v128Bytes(lanes(tail)).set(cond);
          f.get(sAcc).get(valueOf(x0)).f64x2(0).get(cond).op('v128.bitselect').op('f64x2.add').set(sAcc);
          f.get(cAcc).f64x2(1).f64x2(0).get(cond).op('v128.bitselect').op('f64x2.add').set(cAcc);
        } else {
          f.get(valueOf(w1)).f64x2(0).op('f64x2.ne');
          if (tail) f.v128Bytes(lanes(tail)).op('v128.and');
          f.set(cond);
          f.get(sAcc).get(valueOf(x0)).get(valueOf(w1)).op('f64x2.mul').f64x2(0).get(cond).op('v128.bitselect').op('f64x2.add').set(sAcc);
          f.get(cAcc).get(valueOf(w1)).f64x2(0).get(cond).op('v128.bitselect').op('f64x2.add').set(cAcc);
        }
      }
      if (save) {
        // A target's first contribution sets it; an adjoint that receives none is 0, and its node sends nothing.
        const assigned = new Set<number>();
        const add = (to: number, e: Expr | 'one', guard: number | null): void => {
          const target = to < 0 ? q[-to - 1]! : adj[to]!;
          const first = !assigned.has(to);
          assigned.add(to);
          if (!first) f.get(target);
          if (e === 'one') f.f64x2(1);
          else em.emit(e);
          if (guard !== null) f.f64x2(0).get(guard).op('v128.bitselect');
          if (!first) f.op('f64x2.add');
          f.set(target);
        };
        add(x0, 'one', null);
        for (const s of sweep!) {
          if (!assigned.has(s.k)) continue;
          // JS: if (a_k !== 0) { ... }: a part counts only where the adjoint is nonzero. A part that
          // is itself 0 where the adjoint is (up to its sign, which the stored gradient's + 0
          // drops) needs no test; one that multiplies the adjoint by a value (0 * Infinity) does.
          const guarded = s.parts.some((p) => !zeroPreserving(p.e, `a${s.k}`));
          if (guarded) f.get(adj[s.k]!).f64x2(0).op('f64x2.ne').set(cond);
          for (const p of s.parts) add(p.to, p.e, guarded && !zeroPreserving(p.e, `a${s.k}`) ? cond : null);
        }
        for (const l of wanted) if (!assigned.has(-l - 1)) f.f64x2(0).set(q[l]!);
        for (const l of wanted) {
          f.get(jacBase[wanted.indexOf(l)]!).get(idx[k - 1]!).i32(3).op('i32.shl').op('i32.add').get(q[l]!);
          if (tail) f.storeLane('v128.store64_lane', 0);
          else f.mem('v128.store');
        }
      }
      if (maskLeaf !== null) f.end();
    };
    const innerLoop = (): void => {
      // Per outer iteration: bases, leaves without the inner dim, the values that depend on nothing else.
      for (let l = 0; l < L; l++) {
        f.get(l);
        outerSum(leafStride[l]!, k - 1);
        f.op('i32.add').set(base[l]!);
      }
      if (red1 === null) {
        f.get(P.out);
        outerSum(elemStride(4), k - 1);
        f.op('i32.add').set(outBase);
      }
      if (save) {
        for (const l of wanted) {
          f.get(P.jac(l));
          outerSum(elemStride(8), k - 1);
          f.op('i32.add').set(jacBase[wanted.indexOf(l)]!);
        }
      }
      for (let l = 0; l < L; l++) if (!hasInner[l]) splatLeaf(l);
      for (let j = 0; j <= elementRoot; j++) if (nodeDepth[j]! < k) computeNode(j);
      pairLoop(f, idx[k - 1]!, inner, elementBody);
    };
    const level = (j: number): void => {
      if (red1 !== null && j === red1.k1) f.f64x2(0).set(sAcc).f64x2(0).set(cAcc);
      if (j === k - 1) innerLoop();
      else countedLoop(f, idx[j]!, 0, n[j]!, 1, () => level(j + 1));
      if (red1 !== null && j === red1.k1) {
        // s1[o] = lane 0 + lane 1 (each o is visited once), c1 likewise.
        for (const [ptr, acc] of [[P.s1, sAcc], [P.c1, cAcc]] as const) {
          f.get(ptr);
          outerSum(oStride, red1.k1);
          f.op('i32.add');
          f.get(acc).laneF64(0).get(acc).laneF64(1).op('f64.add');
          f.mem('f64.store');
        }
      }
    };
    level(0);
    return f;
  };

  // ---- the saved backward: (jac pointers..., grad pointers..., mask pointer, d1, c1 | dy)
  const makeBackward = (): FnBuilder => {
    const W = wanted.length;
    const f = new FnBuilder(Array.from({ length: 2 * W + 3 }, (): ValType => I32));
    const P = { jac: (i: number) => i, grad: (i: number) => W + i, mask: 2 * W, d1: 2 * W + 1, c1: 2 * W + 2 };
    const idx = space.map(() => f.local(I32));
    const flat = f.local(I32);
    const maskBase = f.local(I32);
    const g1 = f.local(V128);
    const c = f.local(V128);
    const w = f.local(V128);
    const s = f.local(V128);
    const m = f.local(V128);
    const mask = w1 !== null ? -w1 - 1 : null;
    const elemStride = space.map((_, j) => prod(n.slice(j + 1)));
    const outerSum = (stride: readonly number[], upTo: number): void => offsetOf(f, idx, stride, upTo);
    const elementBody = (tail: boolean): void => {
      const i = idx[k - 1]!;
      const load32 = tail ? 'v128.load32_zero' : 'v128.load64_zero';
      if (red1 === null) {
        // s = dy at this element
        f.get(P.d1).get(flat).get(i).op('i32.add').i32(2).op('i32.shl').op('i32.add').mem(load32).op('f64x2.promote_low_f32x4').set(s);
      } else {
        if (mask === null) f.f64x2(1).set(w);
        else if (hasInner[mask]) {
          f.get(maskBase).get(i).i32(2).op('i32.shl').op('i32.add').mem(load32);
          f.op(leafEl[mask] === 'f32' ? 'f64x2.promote_low_f32x4' : 'f64x2.convert_low_i32x4_s').set(w);
        }
        // sum: w != 0 ? g1 * w : 0; mean: c != 0 && w != 0 ? g1 * w / c : 0
        f.get(w).f64x2(0).op('f64x2.ne').set(m);
        f.get(g1).get(w).op('f64x2.mul');
        if (red1.op === 'mean') {
          f.get(c).op('f64x2.div');
          f.get(m).get(c).f64x2(0).op('f64x2.ne').op('v128.and').set(m);
        }
        f.f64x2(0).get(m).op('v128.bitselect').set(s);
      }
      // g = s != 0 ? s * J + 0 : 0
      f.get(s).f64x2(0).op('f64x2.ne').set(m);
      wanted.forEach((_, wi) => {
        f.get(P.grad(wi)).get(flat).get(i).op('i32.add').i32(2).op('i32.shl').op('i32.add');
        f.get(s);
        if (constJac !== null) f.f64x2(constJac[wi]!);
        else f.get(P.jac(wi)).get(flat).get(i).op('i32.add').i32(3).op('i32.shl').op('i32.add').mem(tail ? 'v128.load64_zero' : 'v128.load');
        f.op('f64x2.mul').f64x2(0).op('f64x2.add');
        f.f64x2(0).get(m).op('v128.bitselect').op('f32x4.demote_f64x2_zero');
        if (tail) f.storeLane('v128.store32_lane', 0);
        else f.storeLane('v128.store64_lane', 0);
      });
    };
    const innerLoop = (): void => {
      outerSum(elemStride, k - 1);
      f.set(flat);
      if (red1 !== null) {
        for (const [ptr, loc] of [[P.d1, g1], [P.c1, c]] as const) {
          f.get(ptr);
          outerSum(oStride, red1.k1);
          f.op('i32.add').mem('f64.load').op('f64x2.splat').set(loc);
        }
        if (mask !== null) {
          f.get(P.mask);
          outerSum(leafStride[mask]!, k - 1);
          f.op('i32.add').set(maskBase);
          if (!hasInner[mask]) {
            f.get(maskBase).mem(leafEl[mask] === 'f32' ? 'f32.load' : 'i32.load');
            f.op(leafEl[mask] === 'f32' ? 'f64.promote_f32' : 'f64.convert_i32_s').op('f64x2.splat').set(w);
          }
        }
      }
      pairLoop(f, idx[k - 1]!, inner, elementBody);
    };
    const level = (j: number): void => {
      if (j === k - 1) innerLoop();
      else countedLoop(f, idx[j]!, 0, n[j]!, 1, () => level(j + 1));
    };
    level(0);
    return f;
  };

  const fns = [{ name: 'forward', fn: makeForward(false) }];
  if (savedHere) fns.push({ name: 'forward_saved', fn: constJac !== null ? makeForward(false) : makeForward(true) }, { name: 'backward_saved', fn: makeBackward() });
  const binary = assemble(fns);
  const module = new WebAssembly.Module(binary);
  const instances = new WeakMap<WebAssembly.Memory, Record<string, (...xs: number[]) => void>>();
  const exportsFor = (heap: WasmHeap): Record<string, (...xs: number[]) => void> => {
    let e = instances.get(heap.memory);
    if (e === undefined) {
      e = new WebAssembly.Instance(module, { env: { memory: heap.memory } }).exports as Record<string, (...xs: number[]) => void>;
      instances.set(heap.memory, e);
    }
    return e;
  };
  const o1Size = red1 === null ? 0 : prod(n.slice(0, red1.k1));
  const spaceSize = prod(n);
  // Saved derivatives not read by a backward pass (a forward whose gradient nobody asked) go back to the heap when their state is collected.
  const unread = new FinalizationRegistry<{ heap: WasmHeap; ptrs: number[] }>(({ heap, ptrs }) => ptrs.forEach((p) => heap.free(p)));
  const released = new WeakSet<ForwardState>();
  const f64 = (heap: WasmHeap, ptr: number, len: number): Float64Array => new Float64Array(heap.memory.buffer, ptr, len);

  return {
    js,
    binary,
    forward(heap, leaves, out, views, saveGrad) {
      const save = saveGrad && savedHere;
      const acc = red1 === null ? 0 : heap.malloc(16 * Math.max(o1Size, 1));
      const jac = save && constJac === null ? wanted.map(() => heap.malloc(8 * spaceSize)) : [];
      try {
        exportsFor(heap)[save ? 'forward_saved' : 'forward']!(...leaves, out, acc, acc + 8 * o1Size, ...jac);
      } catch (e) {
        for (const p of jac) heap.free(p);
        if (acc !== 0) heap.free(acc);
        throw e;
      }
      let st: HeapState;
      if (red1 === null) st = { out: new Float64Array(0), acc: [] };
      else {
        const s1 = f64(heap, acc, o1Size).slice();
        const c1 = f64(heap, acc + 8 * o1Size, o1Size).slice();
        heap.free(acc);
        const v = views();
        st = js.finish(v.leaves, v.out, s1, c1);
      }
      if (!save) return st;
      const heapJac = body.leaves.map((_, l) => (wanted.includes(l) && constJac === null ? jac[wanted.indexOf(l)]! : -1));
      const saved: HeapState = { ...st, heapJac };
      unread.register(saved, { heap, ptrs: jac }, saved);
      return saved;
    },
    backward(heap, leaves, st, dy, into, views) {
      const hj = (st as HeapState).heapJac;
      // A state read once already (a second backward of one forward) has given its arrays back.
      if (hj === undefined || released.has(st)) return false;
      unread.unregister(st);
      released.add(st);
      const jac = constJac !== null ? wanted.map(() => 0) : wanted.map((l) => hj[l]!);
      let d1c1 = 0;
      try {
        if (red1 !== null) {
          const v = views();
          const d1 = js.seedD1(v.leaves, st, v.dy);
          const c1 = st.acc[0]!.c;
          d1c1 = heap.malloc(16 * Math.max(o1Size, 1));
          const mem = f64(heap, d1c1, 2 * o1Size);
          for (let o = 0; o < o1Size; o++) mem[o] = d1[o]!;
          mem.set(c1, o1Size);
        }
        const mask = w1 !== null ? leaves[-w1 - 1]! : 0;
        const args = red1 === null ? [mask, dy, 0] : [mask, d1c1, d1c1 + 8 * o1Size];
        exportsFor(heap)['backward_saved']!(...jac, ...wanted.map((l) => into[l]!), ...args);
      } finally {
        if (d1c1 !== 0) heap.free(d1c1);
        if (constJac === null) for (const p of jac) heap.free(p);
      }
      return true;
    },
  };
}
