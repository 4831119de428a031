/**
 * Code generation for fused bodies: one JS function for the forward pass and one for the
 * backward pass, looping over the iteration space with every operand indexed through its own
 * strides (a broadcast operand has stride 0 along the dims it lacks: nothing is materialized).
 *
 * Elementwise values come from each op's declared `scalar` (the reference semantics), their
 * local derivatives from its declared `grad`. The backward function is reverse-mode
 * differentiation of the body, derived here once per body: per element it recomputes the
 * forward values, seeds the root's adjoint from the trailing reductions, and sweeps the body
 * backwards, accumulating into the leaves' gradients (so a broadcast leaf's gradient is summed
 * over the dims it lacks). The arithmetic is float64; results are stored by the caller.
 */
import type { JsTemplate } from '../ops/define.js';
import { opByName } from '../ops/index.js';
import { bodyShape, type FusedBody } from './body.js';

/** Host arrays in, host arrays out (float64). */
export type HostArray = ArrayLike<number>;

/** What the forward pass keeps for the backward pass. */
export interface ForwardState {
  readonly out: Float64Array;
  /** Per reduction: sums and weights (counts) by output element. */
  readonly acc: readonly { readonly s: Float64Array; readonly c: Float64Array; readonly r: Float64Array }[];
}

/** A compiled body at fixed sizes. */
export interface JsKernel {
  /** Number of elements of the result. */
  readonly outSize: number;
  forward(leaves: readonly HostArray[]): ForwardState;
  /** Gradients for each leaf (null for leaves that are not f32). */
  backward(leaves: readonly HostArray[], state: ForwardState, dy: HostArray): (Float64Array | null)[];
  /** The generated source, for inspection and debugging. */
  readonly source: { readonly forward: string; readonly backward: string };
}

type Fn = (...xs: number[]) => number;
type GradFn = (xs: readonly number[], g: number) => readonly number[];

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** The offset expression of an array with dims `dims` at loop indices i0..ik over `space`. */
function offsetExpr(dims: readonly string[], space: readonly string[], sizes: ReadonlyMap<string, number>): string {
  const terms: string[] = [];
  for (let k = 0; k < dims.length; k++) {
    const stride = prod(dims.slice(k + 1).map((d) => sizeOf(sizes, d)));
    const i = space.indexOf(dims[k]!);
    if (i < 0) throw new Error(`internal: dim ${dims[k]} is not in the iteration space [${space.join(',')}]`);
    terms.push(stride === 1 ? `i${i}` : `i${i} * ${stride}`);
  }
  return terms.length === 0 ? '0' : terms.join(' + ');
}

function sizeOf(sizes: ReadonlyMap<string, number>, d: string): number {
  const s = sizes.get(d);
  if (s === undefined) throw new Error(`no size is known for dimension \`${d}\``);
  return s;
}

/** A line placed at a loop depth: 0 before every loop, k inside the k-th loop (loop-invariant code motion). */
interface Placed {
  readonly depth: number;
  readonly line: string;
}

function loops(space: readonly string[], sizes: ReadonlyMap<string, number>, inner: readonly (string | Placed)[]): string[] {
  const at = (l: string | Placed): Placed => (typeof l === 'string' ? { depth: space.length, line: l } : l);
  const placed = inner.map(at);
  const out: string[] = placed.filter((p) => p.depth === 0).map((p) => p.line);
  space.forEach((d, i) => {
    out.push(`${'  '.repeat(i)}for (let i${i} = 0; i${i} < ${sizeOf(sizes, d)}; i${i}++) {`);
    for (const p of placed) if (p.depth === i + 1) out.push('  '.repeat(i + 1) + p.line);
  });
  space.forEach((_, i) => out.push(`${'  '.repeat(space.length - 1 - i)}}`));
  return out;
}

/**
 * Compile a body at these dim sizes. `needsGrad` (default: all) says which leaves' gradients
 * may be asked: the backward skips the others, and every adjoint that reaches none of those.
 */
export function compileJsKernel(body: FusedBody, sizes: ReadonlyMap<string, number>, needsGrad?: readonly boolean[]): JsKernel {
  const shape = bodyShape(body);
  const space = shape.dims;
  const F: Fn[] = [];
  const G: GradFn[] = [];
  const T: (JsTemplate | undefined)[] = [];
  for (const n of body.nodes) {
    const op = opByName(n.op);
    if (op === undefined) throw new Error(`internal: no op ${n.op}`);
    F.push((op.scalar ?? (() => NaN)) as Fn);
    G.push((op.grad ?? (() => [])) as GradFn);
    T.push(op.js);
  }
  const isElement = (k: number): boolean => k >= 0 && k <= shape.elementRoot && !shape.reductions.includes(k);
  const val = (a: number): string => (a < 0 ? `x${-a - 1}` : `v${a}`);
  const usedLeaves = new Set<number>();
  for (let k = 0; k <= shape.elementRoot; k++) for (const a of body.nodes[k]!.args) if (a < 0) usedLeaves.add(-a - 1);
  const r1 = shape.reductions[0];
  const r2 = shape.reductions[1];
  const red1 = r1 === undefined ? null : body.nodes[r1]!;
  const red2 = r2 === undefined ? null : body.nodes[r2]!;
  const x0 = red1 === null ? body.nodes.length - 1 : red1.args[0]!;
  if (x0 < 0) usedLeaves.add(-x0 - 1);
  const w1 = red1 !== null && red1.attrs['where'] === true ? red1.args[1]! : null;
  if (w1 !== null && w1 < 0) usedLeaves.add(-w1 - 1);
  // The loop depth a value needs: the innermost loop over one of its leaves' dims.
  const dimDepth = (dims: readonly string[]): number => Math.max(0, ...dims.map((d) => space.indexOf(d) + 1));
  const depth = new Map<number, number>();
  const depthOf = (a: number): number => (a < 0 ? dimDepth(body.leaves[-a - 1]!.dims) : depth.get(a)!);
  const leafLoads: Placed[] = [...usedLeaves].sort((a, b) => a - b).map((l) => ({ depth: dimDepth(body.leaves[l]!.dims), line: `const x${l} = L${l}[${offsetExpr(body.leaves[l]!.dims, space, sizes)}];` }));
  const elementLines: Placed[] = [];
  for (let k = 0; k <= shape.elementRoot; k++) {
    const n = body.nodes[k]!;
    const t = T[k];
    const value = n.op === 'expand' ? val(n.args[0]!) : t !== undefined ? t.value(n.args.map(val)) : `F${k}(${n.args.map(val).join(', ')})`;
    depth.set(k, Math.max(0, ...n.args.map(depthOf)));
    elementLines.push({ depth: depth.get(k)!, line: `const v${k} = ${value};` });
  }
  // Scalar functions the ops' templates call by name (lgamma's), bound once per kernel.
  const lib: Record<string, (x: number) => number> = {};
  for (const t of T) {
    for (const [name, fn] of Object.entries(t?.lib ?? {})) {
      if (lib[name] !== undefined && lib[name] !== fn) throw new Error(`internal: two kernel template functions named ${name}`);
      lib[name] = fn;
    }
  }
  const header = [
    ...body.leaves.map((_, l) => `const L${l} = L[${l}];`),
    ...body.nodes.map((_, k) => `const F${k} = F[${k}], G${k} = G[${k}];`),
    ...Object.keys(lib).map((name) => `const ${name} = LIB.${name};`),
  ];
  const o1Size = red1 === null ? 0 : prod(red1.type.dims.map((d) => sizeOf(sizes, d)));
  const rootDims = body.nodes[body.nodes.length - 1]!.type.dims;
  const outSize = prod(rootDims.map((d) => sizeOf(sizes, d)));

  // ---- forward
  const fwd: string[] = [...header];
  if (red1 === null) {
    fwd.push(`const out = new Float64Array(${outSize});`);
    fwd.push(...loops(space, sizes, [...leafLoads, ...elementLines, `out[${offsetExpr(rootDims, space, sizes)}] = ${val(x0)};`]));
    fwd.push('return { out, acc: [] };');
  } else {
    fwd.push(`const s1 = new Float64Array(${o1Size}), c1 = new Float64Array(${o1Size}), r1 = new Float64Array(${o1Size});`);
    const o = offsetExpr(red1.type.dims, space, sizes);
    fwd.push(...loops(space, sizes, [
      ...leafLoads, ...elementLines,
      `const o = ${o}, w = ${w1 === null ? '1' : val(w1)};`,
      `if (w !== 0) s1[o] += ${val(x0)} * w;`,
      'c1[o] += w;',
    ]));
    fwd.push(`for (let o = 0; o < ${o1Size}; o++) r1[o] = ${finalize(red1.op, 's1[o]', 'c1[o]')};`);
    if (red2 === null) {
      fwd.push('return { out: r1, acc: [{ s: s1, c: c1, r: r1 }] };');
    } else {
      const w2 = red2.attrs['where'] === true ? red2.args[1]! : null;
      const space1 = red1.type.dims;
      const w2Load = w2 === null ? '1' : `L${-w2 - 1}[${offsetExpr(body.leaves[-w2 - 1]!.dims, space1, sizes)}]`;
      fwd.push(`const s2 = new Float64Array(${outSize}), c2 = new Float64Array(${outSize}), r2 = new Float64Array(${outSize});`);
      fwd.push(...loops(space1, sizes, [
        `const o1 = ${offsetExpr(space1, space1, sizes)}, o = ${offsetExpr(red2.type.dims, space1, sizes)}, w = ${w2Load};`,
        'if (w !== 0) s2[o] += r1[o1] * w;',
        'c2[o] += w;',
      ]));
      fwd.push(`for (let o = 0; o < ${outSize}; o++) r2[o] = ${finalize(red2.op, 's2[o]', 'c2[o]')};`);
      fwd.push('return { out: r2, acc: [{ s: s1, c: c1, r: r1 }, { s: s2, c: c2, r: r2 }] };');
    }
  }

  // ---- backward
  const differentiable = body.leaves.map((t, l) => t.dtype === 'f32' && needsGrad?.[l] !== false);
  // live(k): node k's adjoint reaches a leaf whose gradient is wanted.
  const liveNode: boolean[] = [];
  const liveArg = (a: number): boolean => (a < 0 ? differentiable[-a - 1]! : liveNode[a]!);
  body.nodes.forEach((n, k) => liveNode.push(n.args.some(liveArg)));
  const bwd: string[] = [...header, ...(red1 !== null ? ['const C1 = st.acc[0].c, R1 = st.acc[0].r;'] : [])];
  bwd.push(...body.leaves.map((t, l) => (differentiable[l] ? `const gL${l} = new Float64Array(${prod(t.dims.map((d) => sizeOf(sizes, d)))});` : `const gL${l} = null;`)));
  const addLeaf = (l: number, dims: readonly string[], sp: readonly string[], expr: string): string =>
    differentiable[l] ? `gL${l}[${offsetExpr(dims, sp, sizes)}] += ${expr};` : '';
  const seed: string[] = [];
  const adj = (k: number): string => `a${k}`;
  // Adjoint of the first reduction's input at this element, and of its mask.
  if (red1 === null) {
    if (liveArg(x0)) seed.push(`${adj(x0)} += dy[${offsetExpr(rootDims, space, sizes)}];`);
  } else {
    seed.push(`const o = ${offsetExpr(red1.type.dims, space, sizes)}, w = ${w1 === null ? '1' : val(w1)}, c = C1[o], g1 = d1[o];`);
    const dx = red1.op === 'sum' ? '(w !== 0 ? g1 * w : 0)' : red1.op === 'mean' ? '(c !== 0 && w !== 0 ? g1 * w / c : 0)' : null;
    if (dx !== null && liveArg(x0)) seed.push(x0 < 0 ? addLeaf(-x0 - 1, body.leaves[-x0 - 1]!.dims, space, dx) : `${adj(x0)} += ${dx};`);
    if (w1 !== null && liveArg(w1)) {
      const dw = red1.op === 'sum' ? `(w !== 0 ? g1 * ${val(x0)} : 0)` : red1.op === 'mean' ? `(c !== 0 ? g1 * ((w !== 0 ? ${val(x0)} : 0) - R1[o]) / c : 0)` : 'g1';
      seed.push(w1 < 0 ? addLeaf(-w1 - 1, body.leaves[-w1 - 1]!.dims, space, dw) : `${adj(w1)} += ${dw};`);
    }
  }
  const sweep: string[] = [];
  for (let k = shape.elementRoot; k >= 0; k--) {
    if (!isElement(k) || !liveNode[k]) continue;
    const n = body.nodes[k]!;
    const lines: string[] = [];
    const t = T[k];
    const part: string[] =
      n.op === 'expand' ? [adj(k)] : t !== undefined ? [...t.grad(n.args.map(val), adj(k), `v${k}`)] : n.args.map((_, j) => `p[${j}]`);
    if (n.op !== 'expand' && t === undefined) lines.push(`const p = G${k}([${n.args.map(val).join(', ')}], ${adj(k)});`);
    n.args.forEach((a, j) => {
      if (part[j] === '0' || !liveArg(a)) return;
      if (a >= 0) lines.push(`${adj(a)} += ${part[j]};`);
      else lines.push(addLeaf(-a - 1, body.leaves[-a - 1]!.dims, space, part[j]!));
    });
    sweep.push(`if (${adj(k)} !== 0) { ${lines.filter((l) => l !== '').join(' ')} }`);
  }
  const adjDecl = body.nodes.map((_, k) => k).filter((k) => isElement(k) && liveNode[k]).map((k) => `let ${adj(k)} = 0;`);
  if (red2 !== null) {
    const w2 = red2.attrs['where'] === true ? red2.args[1]! : null;
    const space1 = red1!.type.dims;
    const w2Off = w2 === null ? '' : offsetExpr(body.leaves[-w2 - 1]!.dims, space1, sizes);
    const inner = [
      `const o1 = ${offsetExpr(space1, space1, sizes)}, o = ${offsetExpr(red2.type.dims, space1, sizes)}, w = ${w2 === null ? '1' : `L${-w2 - 1}[${w2Off}]`}, c = st.acc[1].c[o], g = dy[o];`,
      `d1[o1] = ${red2.op === 'sum' ? '(w !== 0 ? g * w : 0)' : red2.op === 'mean' ? '(c !== 0 && w !== 0 ? g * w / c : 0)' : '0'};`,
    ];
    if (w2 !== null && differentiable[-w2 - 1]) {
      const dw = red2.op === 'sum' ? '(w !== 0 ? g * st.acc[0].r[o1] : 0)' : red2.op === 'mean' ? '(c !== 0 ? g * ((w !== 0 ? st.acc[0].r[o1] : 0) - st.acc[1].r[o]) / c : 0)' : 'g';
      inner.push(`gL${-w2 - 1}[${w2Off}] += ${dw};`);
    }
    bwd.push(`const d1 = new Float64Array(${o1Size});`);
    bwd.push(...loops(space1, sizes, inner));
  } else if (red1 !== null) {
    bwd.push('const d1 = dy;');
  }
  bwd.push(...loops(space, sizes, [...leafLoads, ...elementLines, ...adjDecl, ...seed.filter((l) => l !== ''), ...sweep]));
  bwd.push(`return [${body.leaves.map((_, l) => `gL${l}`).join(', ')}];`);

  const fwdSrc = fwd.join('\n');
  const bwdSrc = bwd.join('\n');
  type Lib = Record<string, (x: number) => number>;
  const forward = new Function('L', 'F', 'G', 'LIB', fwdSrc) as (L: readonly HostArray[], F: Fn[], G: GradFn[], LIB: Lib) => ForwardState;
  const backward = new Function('L', 'F', 'G', 'LIB', 'st', 'dy', bwdSrc) as (L: readonly HostArray[], F: Fn[], G: GradFn[], LIB: Lib, st: ForwardState, dy: HostArray) => (Float64Array | null)[];
  return {
    outSize,
    forward: (leaves) => forward(leaves, F, G, lib),
    backward: (leaves, st, dy) => backward(leaves, F, G, lib, st, dy),
    source: { forward: fwdSrc, backward: bwdSrc },
  };
}

function finalize(op: string, s: string, c: string): string {
  if (op === 'sum') return s;
  if (op === 'count') return c;
  return `(${c} === 0 ? 0 : ${s} / ${c})`;
}

/** Sizes of every dim a body uses, from its leaves' shapes and the result's shape. */
export function bodySizes(body: FusedBody, leafShapes: readonly (readonly number[])[], outShape: readonly number[], known: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const sizes = new Map(known);
  body.leaves.forEach((t, l) => t.dims.forEach((d, i) => sizes.set(d, leafShapes[l]![i]!)));
  body.nodes[body.nodes.length - 1]!.type.dims.forEach((d, i) => sizes.set(d, outShape[i]!));
  for (const n of body.nodes) for (const d of n.type.dims) if (!sizes.has(d)) throw new Error(`no size is known for dimension \`${d}\``);
  return sizes;
}
