/**
 * Code generation for fused bodies on webgpu: WGSL compute programs for the forward and the
 * backward pass, the GPU counterpart of js-kernel.ts (same body, same derivation), run by
 * compiler/codegen/wgsl-lower.ts through the webgpu backend's `runWebGPUProgram`.
 *
 * Every size is baked into the source (so the source is the pipeline cache key). Every operand
 * is read at its own offset of the iteration space: a broadcast leaf is indexed, never
 * materialized. The arithmetic is f32 (bools and ints are read as 0/1 and whole values).
 *
 * - A body without reductions is one map program: a thread per element.
 * - A trailing masked reduction is one program whose output is packed `[r (M values), c (M
 *   weights)]` (the backward needs the weights, and for a mean's mask gradient the results): a
 *   workgroup per output element when the reduced extent is long (strided loop, then a tree
 *   reduction in workgroup memory), else a thread per output element looping over it.
 *   A second reduction reads the first's packed output and reduces it the same way.
 * - The backward is one program per leaf whose gradient is wanted, with that leaf's dims as its
 *   output: per element of the iteration space it recomputes the forward values, seeds the
 *   root's adjoint from the reductions (their weights and dy), sweeps the body backwards with
 *   the ops' `wgsl` partials, and sums the leaf's share over the dims the leaf lacks (a
 *   reduction again, so a broadcast leaf's gradient is summed without atomics). A leaf that is
 *   the second reduction's mask gets one more program for that reduction's term.
 */
import { opByName } from '../ops/index.js';
import type { WgslTemplate } from '../ops/define.js';
import { bodyShape, type BodyNode, type FusedBody } from './body.js';
import { WGSL_PRELUDE } from './wgsl-prelude.js';

/**
 * What a program reads, in binding order: a body leaf, several leaves concatenated (flat, as
 * f32: when the leaves would exceed the storage buffers a shader stage may bind), a packed
 * reduction output, or dy.
 */
export type WgslInput =
  | { readonly kind: 'leaf'; readonly leaf: number }
  | { readonly kind: 'pack'; readonly leaves: readonly number[] }
  | { readonly kind: 'acc'; readonly level: 1 | 2 }
  | { readonly kind: 'dy' };

/** Storage buffers every WebGPU device allows per shader stage (the output takes one). */
export const MAX_STORAGE_BUFFERS = 8;

/** One generated compute program. */
export interface WgslProgram {
  /** What it computes, for messages: `forward`, `reduce 2`, `grad leaf 3`... */
  readonly name: string;
  readonly inputs: readonly WgslInput[];
  /** Elements of the (flat) output. */
  readonly outSize: number;
  readonly outDtype: 'float32' | 'int32' | 'bool';
  /** Threads per workgroup. */
  readonly workgroupSize: number;
  /** Workgroups to dispatch. */
  readonly workgroups: number;
  /** The WGSL of `main(index)` and its helpers (TF.js adds the bindings and the entry point). */
  readonly code: string;
}

/** A body's programs at fixed sizes. */
export interface WgslKernel {
  /** The map program, or the first reduction's and (if any) the second's. */
  readonly forward: readonly WgslProgram[];
  /** Output elements of each reduction (their packed outputs hold twice as many). */
  readonly accSizes: readonly number[];
  /** Per leaf: programs whose outputs (the leaf's shape, flat) sum to its gradient; empty: zero. */
  readonly backward: readonly (readonly WgslProgram[])[];
}

/** Why a body has no WGSL form (an op without a `wgsl` template), or null. */
export function wgslUnsupported(body: FusedBody): string | null {
  for (const n of body.nodes) {
    if (n.op === 'expand' || ['sum', 'mean', 'count'].includes(n.op)) continue;
    if (opByName(n.op)?.wgsl === undefined) return `op \`${n.op}\` has no WGSL template`;
  }
  return null;
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
/** The WGSL name of an input's binding. */
export const inputName = (i: WgslInput): string => (i.kind === 'leaf' ? `L${i.leaf}` : i.kind === 'pack' ? 'LP' : i.kind === 'acc' ? `A${i.level}` : 'DY');

function sizeOf(sizes: ReadonlyMap<string, number>, d: string): number {
  const s = sizes.get(d);
  if (s === undefined) throw new Error(`no size is known for dimension \`${d}\``);
  return s;
}

/** The i32 offset into an array with dims `dims` at the coordinates `i<k>` of `space`. */
function offsetExpr(dims: readonly string[], space: readonly string[], sizes: ReadonlyMap<string, number>): string {
  const terms: string[] = [];
  for (let k = 0; k < dims.length; k++) {
    const stride = prod(dims.slice(k + 1).map((d) => sizeOf(sizes, d)));
    const i = space.indexOf(dims[k]!);
    if (i < 0) throw new Error(`internal: dim ${dims[k]} is not in the iteration space [${space.join(',')}]`);
    if (sizeOf(sizes, dims[k]!) === 1) continue;
    terms.push(stride === 1 ? `i${i}` : `i${i} * ${stride}`);
  }
  return terms.length === 0 ? '0' : terms.join(' + ');
}

/** Lines setting the coordinates `i<k>` (k: position in `space`) of `dims` from a flat index over them. */
function decode(dims: readonly string[], index: string, space: readonly string[], sizes: ReadonlyMap<string, number>): string[] {
  return dims.map((d, k) => {
    const stride = prod(dims.slice(k + 1).map((x) => sizeOf(sizes, x)));
    const q = stride === 1 ? index : `(${index} / ${stride})`;
    return `let i${space.indexOf(d)}: i32 = ${k === 0 ? q : `${q} % ${sizeOf(sizes, d)}`};`;
  });
}

const TOUCH = '// @bindings';

/**
 * Bind a program's source: leaves are read through `ld<l>(offset)`; find which leaves and other
 * inputs the code reads, pack the smallest leaves into one buffer if they would not fit, define the
 * readers, and keep every binding in the pipeline's layout (TF.js binds them all).
 */
function bind(code: string, leafSizes: readonly number[]): { code: string; inputs: WgslInput[] } {
  const leaves = [...new Set([...code.matchAll(/\bld(\d+)\(/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
  const others: WgslInput[] = [
    ...(/\bA1\[/.test(code) ? [{ kind: 'acc', level: 1 } as const] : []),
    ...(/\bA2\[/.test(code) ? [{ kind: 'acc', level: 2 } as const] : []),
    ...(/\bDY\[/.test(code) ? [{ kind: 'dy' } as const] : []),
  ];
  // Too many buffers: the smallest leaves (scalars, per-sequence values) share one, so the big
  // ones are read in place and only the small ones are copied.
  const over = leaves.length + others.length - (MAX_STORAGE_BUFFERS - 1);
  const pack = over > 0 ? [...leaves].sort((a, b) => leafSizes[a]! - leafSizes[b]! || a - b).slice(0, over + 1) : [];
  const inputs: WgslInput[] = [...leaves.filter((l) => !pack.includes(l)).map((l) => ({ kind: 'leaf', leaf: l }) as const), ...(pack.length > 0 ? [{ kind: 'pack', leaves: pack } as const] : []), ...others];
  const bases = new Map<number, number>();
  pack.reduce((base, l) => (bases.set(l, base), base + leafSizes[l]!), 0);
  const readers = leaves.map((l) => (bases.has(l) ? `fn ld${l}(i: i32) -> f32 { return LP[${bases.get(l)} + i]; }` : `fn ld${l}(i: i32) -> f32 { return f32(L${l}[i]); }`));
  const touch = ['_ = uniforms.NAN;', ...inputs.map((i) => `_ = arrayLength(&${inputName(i)});`)].join('\n');
  return { code: [...readers, code.replace(TOUCH, touch)].join('\n'), inputs };
}

interface ReduceSpec {
  readonly name: string;
  /** Elements of each leaf (to place them in a pack). */
  readonly leafSizes: readonly number[];
  readonly space: readonly string[];
  /** The output's dims (a subset of space); the program reduces over the rest. */
  readonly outDims: readonly string[];
  readonly sizes: ReadonlyMap<string, number>;
  /** Lines computing one element from the coordinates `i<k>` of space; they define `x` and `w` (f32). */
  readonly element: readonly string[];
  /** `packed`: [r, c] of a masked `sum`/`mean`/`count` (forward); `sum`: the plain sum (a gradient). */
  readonly write: { readonly kind: 'packed'; readonly op: string } | { readonly kind: 'sum' };
}

/** Longest reduced extent a single thread loops over; longer ones get a workgroup per output element. */
const THREAD_LOOP_MAX = 64;
const MAP_WORKGROUP = 64;

/** A reduction program (see the module doc). */
function reduceProgram(s: ReduceSpec): WgslProgram {
  const red = s.space.filter((d) => !s.outDims.includes(d));
  const M = prod(s.outDims.map((d) => sizeOf(s.sizes, d)));
  const K = prod(red.map((d) => sizeOf(s.sizes, d)));
  const perGroup = K > THREAD_LOOP_MAX;
  const WG = perGroup ? (K > 1024 ? 256 : 64) : MAP_WORKGROUP;
  const accumulate = s.write.kind === 'packed' ? ['if (w != 0.0) { s = s + x * w; }', 'c = c + w;'] : ['s = s + x;'];
  const finish = (S: string, C: string): string[] => {
    if (s.write.kind === 'sum') return [`result[o] = ${S};`];
    const r = s.write.op === 'sum' ? S : s.write.op === 'count' ? C : `select(${S} / ${C}, 0.0, ${C} == 0.0)`;
    return [`result[o] = ${r};`, `result[${M} + o] = ${C};`];
  };
  const loopBody = (j: string): string[] => [...decode(red, j, s.space, s.sizes), ...s.element, ...accumulate];
  const lines: string[] = [WGSL_PRELUDE];
  if (!perGroup) {
    lines.push(
      'fn main(index: i32) {',
      TOUCH,
      `if (index >= ${M}) { return; }`,
      'let o = index;',
      ...decode(s.outDims, 'o', s.space, s.sizes),
      'var s: f32 = 0.0;',
      'var c: f32 = 0.0;',
      ...(K === 1 ? ['{', ...loopBody('0'), '}'] : [`for (var j: i32 = 0; j < ${K}; j = j + 1) {`, ...loopBody('j'), '}']),
      ...finish('s', 'c'),
      '}',
    );
    return { name: s.name, ...bind(lines.join('\n'), s.leafSizes), outSize: s.write.kind === 'packed' ? 2 * M : M, outDtype: 'float32', workgroupSize: WG, workgroups: Math.ceil(M / WG) };
  }
  lines.push(
    `var<workgroup> rs: array<f32, ${WG}>;`,
    `var<workgroup> rc: array<f32, ${WG}>;`,
    'fn main(index: i32) {',
    TOUCH,
    `let t = index % ${WG};`,
    `let og = index / ${WG};`,
    // Out-of-range workgroups compute a valid element and write nothing: barriers stay uniform.
    `let o = min(og, ${M - 1});`,
    ...decode(s.outDims, 'o', s.space, s.sizes),
    'var s: f32 = 0.0;',
    'var c: f32 = 0.0;',
    `for (var j: i32 = t; j < ${K}; j = j + ${WG}) {`,
    ...loopBody('j'),
    '}',
    'rs[t] = s;',
    'rc[t] = c;',
    'workgroupBarrier();',
    `for (var h: i32 = ${WG / 2}; h > 0; h = h / 2) {`,
    'if (t < h) { rs[t] = rs[t] + rs[t + h]; rc[t] = rc[t] + rc[t + h]; }',
    'workgroupBarrier();',
    '}',
    `if (t == 0 && og < ${M}) {`,
    ...finish('rs[0]', 'rc[0]'),
    '}',
    '}',
  );
  return { name: s.name, ...bind(lines.join('\n'), s.leafSizes), outSize: s.write.kind === 'packed' ? 2 * M : M, outDtype: 'float32', workgroupSize: WG, workgroups: M };
}

/** Compile a body at these dim sizes. `needsGrad` (default: all) says which leaves' gradients may be asked. */
export function compileWgslKernel(body: FusedBody, sizes: ReadonlyMap<string, number>, needsGrad?: readonly boolean[]): WgslKernel {
  const why = wgslUnsupported(body);
  if (why !== null) throw new Error(`internal: no WGSL kernel for this body: ${why}`);
  const shape = bodyShape(body);
  const space = shape.dims;
  const T: (WgslTemplate | undefined)[] = body.nodes.map((n) => opByName(n.op)?.wgsl);
  const val = (a: number): string => (a < 0 ? `x${-a - 1}` : `v${a}`);
  const r1 = shape.reductions[0];
  const r2 = shape.reductions[1];
  const red1: BodyNode | null = r1 === undefined ? null : body.nodes[r1]!;
  const red2: BodyNode | null = r2 === undefined ? null : body.nodes[r2]!;
  const x0 = red1 === null ? body.nodes.length - 1 : red1.args[0]!;
  const w1 = red1 !== null && red1.attrs['where'] === true ? red1.args[1]! : null;
  const w2 = red2 !== null && red2.attrs['where'] === true ? red2.args[1]! : null;
  const leafSizes = body.leaves.map((t) => prod(t.dims.map((d) => sizeOf(sizes, d))));
  const rootDims = body.nodes[body.nodes.length - 1]!.type.dims;
  const M1 = red1 === null ? 0 : prod(red1.type.dims.map((d) => sizeOf(sizes, d)));
  const M2 = red2 === null ? 0 : prod(red2.type.dims.map((d) => sizeOf(sizes, d)));

  // Leaves read by the elementwise part (and the first reduction's operands).
  const used = new Set<number>();
  for (let k = 0; k <= shape.elementRoot; k++) for (const a of body.nodes[k]!.args) if (a < 0) used.add(-a - 1);
  if (x0 < 0) used.add(-x0 - 1);
  if (w1 !== null && w1 < 0) used.add(-w1 - 1);
  const leafLoad = (l: number, sp: readonly string[]): string => `ld${l}(${offsetExpr(body.leaves[l]!.dims, sp, sizes)})`;
  const forwardLines: string[] = [...[...used].sort((a, b) => a - b).map((l) => `let x${l}: f32 = ${leafLoad(l, space)};`)];
  for (let k = 0; k <= shape.elementRoot; k++) {
    const n = body.nodes[k]!;
    forwardLines.push(`let v${k}: f32 = ${n.op === 'expand' ? val(n.args[0]!) : T[k]!.value(n.args.map(val))};`);
  }

  // ---- forward
  const forward: WgslProgram[] = [];
  if (red1 === null) {
    const M = prod(rootDims.map((d) => sizeOf(sizes, d)));
    const dtype = body.nodes[body.nodes.length - 1]!.type.dtype;
    const code = [WGSL_PRELUDE, 'fn main(index: i32) {', TOUCH, `if (index >= ${M}) { return; }`, ...decode(space, 'index', space, sizes), ...forwardLines, `setOutputAtIndex(index, ${val(x0)});`, '}'].join('\n');
    forward.push({ name: 'forward', ...bind(code, leafSizes), outSize: M, outDtype: dtype === 'f32' ? 'float32' : dtype === 'i32' ? 'int32' : 'bool', workgroupSize: MAP_WORKGROUP, workgroups: Math.ceil(M / MAP_WORKGROUP) });
  } else {
    forward.push(reduceProgram({ name: 'reduce 1', leafSizes, space, outDims: red1.type.dims, sizes, element: [...forwardLines, `let x: f32 = ${val(x0)};`, `let w: f32 = ${w1 === null ? '1.0' : val(w1)};`], write: { kind: 'packed', op: red1.op } }));
    if (red2 !== null) {
      const space1 = red1.type.dims;
      forward.push(reduceProgram({
        name: 'reduce 2', leafSizes, space: space1, outDims: red2.type.dims, sizes,
        element: [`let x: f32 = A1[${offsetExpr(space1, space1, sizes)}];`, `let w: f32 = ${w2 === null ? '1.0' : leafLoad(-w2 - 1, space1)};`],
        write: { kind: 'packed', op: red2.op },
      }));
    }
  }

  // ---- backward
  const isElement = (k: number): boolean => k >= 0 && k <= shape.elementRoot;
  const backward = body.leaves.map((t, l): WgslProgram[] => {
    if (t.dtype !== 'f32' || needsGrad?.[l] === false) return [];
    const progs: WgslProgram[] = [];
    const live: boolean[] = [];
    const liveArg = (a: number): boolean => (a < 0 ? -a - 1 === l : live[a]!);
    body.nodes.forEach((n, k) => live.push(isElement(k) && n.args.some(liveArg)));
    const adj = (k: number): string => `a${k}`;
    /** Add `expr` to the adjoint of argument a (node or leaf l; other leaves are not this program's). */
    const addTo = (a: number, expr: string): string => (a >= 0 ? `${adj(a)} = ${adj(a)} + ${expr};` : -a - 1 === l ? `gl = gl + ${expr};` : '');
    const seed: string[] = [];
    if (red1 === null) {
      if (liveArg(x0)) seed.push(addTo(x0, `f32(DY[${offsetExpr(rootDims, space, sizes)}])`));
    } else {
      const dxLive = red1.op !== 'count' && liveArg(x0);
      const dwLive = w1 !== null && liveArg(w1);
      if (dxLive || dwLive) {
        seed.push(`let o1: i32 = ${offsetExpr(red1.type.dims, space, sizes)};`, `let w: f32 = ${w1 === null ? '1.0' : val(w1)};`, `let c1: f32 = A1[${M1} + o1];`);
        if (red2 === null) seed.push('let g1: f32 = f32(DY[o1]);');
        else {
          seed.push(
            `let o2: i32 = ${offsetExpr(red2.type.dims, space, sizes)};`,
            `let w2: f32 = ${w2 === null ? '1.0' : leafLoad(-w2 - 1, space)};`,
            `let c2: f32 = A2[${M2} + o2];`,
            'let gy: f32 = f32(DY[o2]);',
            `let g1: f32 = ${red2.op === 'sum' ? 'select(0.0, gy * w2, w2 != 0.0)' : red2.op === 'mean' ? 'select(0.0, gy * w2 / c2, c2 != 0.0 && w2 != 0.0)' : '0.0'};`,
          );
        }
        if (dxLive) seed.push(addTo(x0, red1.op === 'sum' ? 'select(0.0, g1 * w, w != 0.0)' : 'select(0.0, g1 * w / c1, c1 != 0.0 && w != 0.0)'));
        if (dwLive) {
          const X = val(x0);
          const dw = red1.op === 'sum' ? `select(0.0, g1 * ${X}, w != 0.0)` : red1.op === 'mean' ? `select(0.0, g1 * (select(0.0, ${X}, w != 0.0) - A1[o1]) / c1, c1 != 0.0)` : 'g1';
          seed.push(addTo(w1!, dw));
        }
      }
    }
    const sweep: string[] = [];
    for (let k = shape.elementRoot; k >= 0; k--) {
      if (!live[k]) continue;
      const n = body.nodes[k]!;
      const parts = n.op === 'expand' ? [adj(k)] : T[k]!.grad(n.args.map(val), adj(k), `v${k}`);
      const lines = n.args.map((a, j) => (parts[j] === '0.0' || parts[j] === '0' || !liveArg(a) ? '' : addTo(a, parts[j]!))).filter((x) => x !== '');
      if (lines.length > 0) sweep.push(`if (${adj(k)} != 0.0) { ${lines.join(' ')} }`);
    }
    const adjDecl = body.nodes.map((_, k) => k).filter((k) => live[k]).map((k) => `var ${adj(k)}: f32 = 0.0;`);
    const bodyLines = [...seed, ...sweep].filter((x) => x !== '');
    if (bodyLines.some((x) => x.includes('gl = gl'))) {
      progs.push(reduceProgram({
        name: `grad leaf ${l}`, leafSizes, space, outDims: t.dims, sizes,
        element: [...forwardLines, 'var gl: f32 = 0.0;', ...adjDecl, ...bodyLines, 'let x: f32 = gl;'],
        write: { kind: 'sum' },
      }));
    }
    // The second reduction's mask, when it is this leaf: its own term, over the first reduction's dims.
    if (red2 !== null && w2 !== null && -w2 - 1 === l && red2.op !== 'count') {
      const space1 = red1!.type.dims;
      const dw = red2.op === 'sum' ? 'select(0.0, gy * r1, w != 0.0)' : 'select(0.0, gy * (select(0.0, r1, w != 0.0) - A2[o2]) / cc, cc != 0.0)';
      progs.push(reduceProgram({
        name: `grad leaf ${l} (mask of reduce 2)`, leafSizes, space: space1, outDims: t.dims, sizes,
        element: [
          `let o2: i32 = ${offsetExpr(red2.type.dims, space1, sizes)};`,
          `let w: f32 = ${leafLoad(l, space1)};`,
          `let cc: f32 = A2[${M2} + o2];`,
          'let gy: f32 = f32(DY[o2]);',
          `let r1: f32 = A1[${offsetExpr(space1, space1, sizes)}];`,
          `let x: f32 = ${dw};`,
        ],
        write: { kind: 'sum' },
      }));
    } else if (red2 !== null && w2 !== null && -w2 - 1 === l) {
      // A count's weights: d count / d w = 1 per counted element.
      const space1 = red1!.type.dims;
      progs.push(reduceProgram({
        name: `grad leaf ${l} (mask of reduce 2)`, leafSizes, space: space1, outDims: t.dims, sizes,
        element: [`let x: f32 = f32(DY[${offsetExpr(red2.type.dims, space1, sizes)}]);`],
        write: { kind: 'sum' },
      }));
    }
    return progs;
  });
  return { forward, accSizes: [M1, M2].filter((m, i) => (i === 0 ? red1 !== null : red2 !== null)), backward };
}
