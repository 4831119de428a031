/**
 * A small WebAssembly assembler for the generated kernels (compiler/codegen/wasm-kernel.ts):
 * function bodies as byte arrays with named emitters for the instructions the kernels use
 * (scalar i32 control and addressing, 128-bit SIMD over f64x2), and a module of functions that
 * import one memory (the TF.js wasm backend's heap, where the tensors live) and export by name.
 * Opcodes follow the WebAssembly core specification, SIMD included.
 */

/** Value types. */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
/** A value type of a param or local. */
export type ValType = typeof I32 | typeof F64 | typeof V128;

function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** SIMD instructions without immediates (prefix 0xfd), by name. */
const SIMD: Readonly<Record<string, number>> = {
  'f64x2.splat': 0x14, 'i64x2.splat': 0x12,
  'f64x2.eq': 0x47, 'f64x2.ne': 0x48, 'f64x2.lt': 0x49, 'f64x2.gt': 0x4a, 'f64x2.le': 0x4b, 'f64x2.ge': 0x4c,
  'v128.not': 0x4d, 'v128.and': 0x4e, 'v128.andnot': 0x4f, 'v128.or': 0x50, 'v128.xor': 0x51, 'v128.bitselect': 0x52, 'v128.any_true': 0x53,
  'f32x4.demote_f64x2_zero': 0x5e, 'f64x2.promote_low_f32x4': 0x5f,
  'f64x2.ceil': 0x74, 'f64x2.floor': 0x75, 'f64x2.trunc': 0x7a, 'f64x2.nearest': 0x94,
  'i64x2.extend_low_i32x4_s': 0xc7, 'i64x2.shl': 0xcb, 'i64x2.shr_s': 0xcc, 'i64x2.add': 0xce, 'i64x2.sub': 0xd1,
  'f64x2.abs': 0xec, 'f64x2.neg': 0xed, 'f64x2.sqrt': 0xef, 'f64x2.add': 0xf0, 'f64x2.sub': 0xf1, 'f64x2.mul': 0xf2, 'f64x2.div': 0xf3,
  'f64x2.min': 0xf4, 'f64x2.max': 0xf5, 'f64x2.pmin': 0xf6, 'f64x2.pmax': 0xf7,
  'i32x4.trunc_sat_f64x2_s_zero': 0xfc, 'f64x2.convert_low_i32x4_s': 0xfe,
};

/** SIMD memory instructions (memarg immediates). */
const SIMD_MEM: Readonly<Record<string, number>> = { 'v128.load': 0x00, 'v128.store': 0x0b, 'v128.load32_zero': 0x5c, 'v128.load64_zero': 0x5d, 'v128.load32_splat': 0x09, 'v128.load64_splat': 0x0a };

/** SIMD lane memory instructions (memarg and a lane). */
const SIMD_LANE_MEM: Readonly<Record<string, number>> = { 'v128.store32_lane': 0x5a, 'v128.store64_lane': 0x5b };

/** Scalar instructions without immediates. */
const PLAIN: Readonly<Record<string, number>> = {
  'i32.eqz': 0x45, 'i32.lt_s': 0x48, 'i32.lt_u': 0x49, 'i32.ge_s': 0x4e, 'i32.add': 0x6a, 'i32.sub': 0x6b, 'i32.mul': 0x6c, 'i32.shl': 0x74,
  'f64.add': 0xa0, 'f64.promote_f32': 0xbb, 'f64.convert_i32_s': 0xb7,
};

/** Scalar memory instructions (memarg: alignment log2, offset). */
const MEM: Readonly<Record<string, [number, number]>> = {
  'i32.load': [0x28, 2], 'f32.load': [0x2a, 2], 'f64.load': [0x2b, 3], 'i32.load8_u': [0x2d, 0], 'f64.store': [0x39, 3], 'f32.store': [0x38, 2],
};

/** A function body under construction: locals by type, then instructions. */
export class FnBuilder {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];
  /** Constants by their bytes, and the local each lives in. */
  private readonly consts = new Map<string, number>();

  constructor(readonly params: readonly ValType[]) {}

  /** A new local of this type; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  op(name: string): this {
    const s = SIMD[name];
    if (s !== undefined) {
      this.code.push(0xfd);
      uleb(s, this.code);
      return this;
    }
    const p = PLAIN[name];
    if (p === undefined) throw new Error(`internal: no wasm instruction ${name}`);
    this.code.push(p);
    return this;
  }

  /** A memory access at `offset` bytes past the address on the stack (natural alignment unless told). */
  mem(name: string, offset = 0, align?: number): this {
    const m = MEM[name];
    if (m !== undefined) {
      this.code.push(m[0]);
      uleb(align ?? m[1], this.code);
      uleb(offset, this.code);
      return this;
    }
    const s = SIMD_MEM[name];
    if (s === undefined) throw new Error(`internal: no wasm memory instruction ${name}`);
    this.code.push(0xfd);
    uleb(s, this.code);
    const natural = name === 'v128.load' || name === 'v128.store' ? 4 : name.includes('32') ? 2 : 3;
    uleb(align ?? natural, this.code);
    uleb(offset, this.code);
    return this;
  }

  /** A lane store (`v128.store32_lane`, `v128.store64_lane`) of lane `lane`. */
  storeLane(name: string, lane: number, offset = 0): this {
    const s = SIMD_LANE_MEM[name]!;
    this.code.push(0xfd);
    uleb(s, this.code);
    uleb(name.includes('32') ? 2 : 3, this.code);
    uleb(offset, this.code);
    this.code.push(lane);
    return this;
  }

  /** `f64x2.extract_lane` of lane `lane` (an f64 on the stack). */
  laneF64(lane: number): this {
    this.code.push(0xfd);
    uleb(0x21, this.code);
    this.code.push(lane);
    return this;
  }

  get(i: number): this {
    this.code.push(0x20);
    uleb(i, this.code);
    return this;
  }

  set(i: number): this {
    this.code.push(0x21);
    uleb(i, this.code);
    return this;
  }

  tee(i: number): this {
    this.code.push(0x22);
    uleb(i, this.code);
    return this;
  }

  i32(v: number): this {
    this.code.push(0x41);
    sleb(v | 0, this.code);
    return this;
  }

  /** An f64x2 constant with both lanes `v`. */
  f64x2(v: number): this {
    return this.v128Bytes(new Uint8Array(new Float64Array([v, v]).buffer));
  }

  /**
   * A v128 constant of these 16 bytes, read from a local set once at the function's start: V8
   * builds each `v128.const` in the loop from general registers (several instructions each), and
   * an exp's two dozen constants filled the processor's window of instructions in flight.
   */
  v128Bytes(bytes: Uint8Array): this {
    const key = bytes.join(',');
    let l = this.consts.get(key);
    if (l === undefined) {
      l = this.local(V128);
      this.consts.set(key, l);
    }
    return this.get(l);
  }

  block(): this {
    this.code.push(0x02, 0x40);
    return this;
  }

  loop(): this {
    this.code.push(0x03, 0x40);
    return this;
  }

  if(): this {
    this.code.push(0x04, 0x40);
    return this;
  }

  end(): this {
    this.code.push(0x0b);
    return this;
  }

  br(depth: number): this {
    this.code.push(0x0c);
    uleb(depth, this.code);
    return this;
  }

  brIf(depth: number): this {
    this.code.push(0x0d);
    uleb(depth, this.code);
    return this;
  }

  /** The encoded body: local declarations (grouped by runs of one type), code, `end`. */
  encode(): number[] {
    const out: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(groups.length, out);
    for (const [n, t] of groups) {
      uleb(n, out);
      out.push(t);
    }
    for (const [key, l] of this.consts) {
      out.push(0xfd);
      uleb(0x0c, out);
      out.push(...key.split(',').map(Number));
      out.push(0x21);
      uleb(l, out);
    }
    out.push(...this.code, 0x0b);
    return out;
  }
}

function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
}

function name(s: string, out: number[]): void {
  const b = new TextEncoder().encode(s);
  uleb(b.length, out);
  out.push(...b);
}

/**
 * A module of functions (each exported under its name, no results) importing memory `env.memory`.
 * Returns the binary.
 */
export function assemble(fns: readonly { readonly name: string; readonly fn: FnBuilder }[]): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(fns.length, types);
  for (const { fn } of fns) {
    types.push(0x60);
    uleb(fn.params.length, types);
    types.push(...fn.params);
    types.push(0x00);
  }
  section(1, types, out);
  const imports: number[] = [];
  uleb(1, imports);
  name('env', imports);
  name('memory', imports);
  imports.push(0x02, 0x00, 0x01);
  section(2, imports, out);
  const funcs: number[] = [];
  uleb(fns.length, funcs);
  fns.forEach((_, i) => uleb(i, funcs));
  section(3, funcs, out);
  const exports: number[] = [];
  uleb(fns.length, exports);
  fns.forEach((f, i) => {
    name(f.name, exports);
    exports.push(0x00);
    uleb(i, exports);
  });
  section(7, exports, out);
  const code: number[] = [];
  uleb(fns.length, code);
  for (const { fn } of fns) {
    const body = fn.encode();
    uleb(body.length, code);
    code.push(...body);
  }
  section(10, code, out);
  return Uint8Array.from(out);
}
