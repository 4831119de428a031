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
import { giveScratch, takeScratch } from './scratch-pool.js';

/** Host arrays in, host arrays out (float64). */
export type HostArray = ArrayLike<number>;

/** An array a kernel writes its results into (a backend tensor's own memory, or a new array). */
export type WritableArray = { [i: number]: number; readonly length: number };

/** What the forward pass keeps for the backward pass. */
export interface ForwardState {
  readonly out: Float64Array;
  /** Per reduction: sums and weights (counts) by output element. */
  readonly acc: readonly { readonly s: Float64Array; readonly c: Float64Array; readonly r: Float64Array }[];
  /**
   * Forward-saved gradients (see `JsKernel.savesGrad`): per leaf, the derivative of the first
   * reduction's input with respect to that leaf at each element (null for leaves not asked).
   */
  readonly jac?: readonly (Float64Array | null)[];
}

/** A compiled body at fixed sizes. */
export interface JsKernel {
  /** Number of elements of the result. */
  readonly outSize: number;
  /**
   * The forward pass; with `out`, the result is also written there (`state.out` stays float64).
   * With `saveGrad` (where `savesGrad`), it also keeps what the backward pass needs so that the
   * backward pass recomputes nothing.
   */
  forward(leaves: readonly HostArray[], out?: WritableArray, saveGrad?: boolean): ForwardState;
  /**
   * Gradients for each leaf (null for leaves that are not f32 or not asked). With `into`, the
   * gradient of each leaf given an array there is written into it (every element is set), and
   * that array is returned in its place.
   */
  backward(leaves: readonly HostArray[], state: ForwardState, dy: HostArray, into?: readonly (WritableArray | null | undefined)[]): (HostArray | null)[];
  /** Leaves whose gradient covers the whole iteration space: `into` may hold an array for them. */
  readonly direct: readonly boolean[];
  /**
   * Whether `forward(..., saveGrad)` can do the gradient's work: when every leaf whose gradient
   * may be asked covers the whole iteration space and the reduction's mask needs none, the
   * gradient at an element is the seed coming back through the reductions (known only in the
   * backward pass) times the local derivative of the reduced value, which the forward pass
   * computes with a unit seed while its element values are at hand. The backward pass is then one
   * multiply per element instead of a second evaluation of the body (exps, logs...).
   */
  readonly savesGrad: boolean;
  /**
   * For a body with reductions, what follows the loop over the iteration space, for kernels of
   * other targets that run that loop themselves (compiler/codegen/wasm-kernel.ts): from the first
   * reduction's sums `s1` and weights `c1`, its results, the second reduction and the result's
   * store into `out`; the state is the forward pass's, without saved gradients.
   */
  readonly finish: (leaves: readonly HostArray[], out: WritableArray | undefined, s1: Float64Array, c1: Float64Array) => ForwardState;
  /** For a body with reductions: the adjoint coming back to each output of the first reduction, from the result's adjoint `dy`. */
  readonly seedD1: (leaves: readonly HostArray[], st: ForwardState, dy: HostArray) => ArrayLike<number>;
  /** The generated source, for inspection and debugging (`saved`: the forward-saved variants, when `savesGrad`). */
  readonly source: { readonly forward: string; readonly backward: string; readonly saved?: { readonly forward: string; readonly backward: string } };
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

/**
 * A line placed at a loop depth: 0 before every loop, k inside the k-th loop (loop-invariant
 * code motion); `post` lines go after the deeper loops at that depth (a reduction's store).
 */
interface Placed {
  readonly depth: number;
  readonly line: string;
  readonly post?: boolean;
}

function loops(space: readonly string[], sizes: ReadonlyMap<string, number>, inner: readonly (string | Placed)[]): string[] {
  const at = (l: string | Placed): Placed => (typeof l === 'string' ? { depth: space.length, line: l } : l);
  const placed = inner.map(at);
  const out: string[] = [];
  const level = (i: number): void => {
    const pad = '  '.repeat(i);
    for (const p of placed) if (p.depth === i && p.post !== true) out.push(pad + p.line);
    if (i < space.length) {
      out.push(`${pad}for (let i${i} = 0; i${i} < ${sizeOf(sizes, space[i]!)}; i${i}++) {`);
      level(i + 1);
      out.push(`${pad}}`);
    }
    for (const p of placed) if (p.depth === i && p.post === true) out.push(pad + p.line);
  };
  level(0);
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

  // Entries outside the first reduction's mask (a leaf) contribute nothing: their element
  // values are not computed (the mask is read first, everything else inside the test).
  const skipMasked = (lines: readonly (string | Placed)[]): (string | Placed)[] => {
    if (w1 === null || w1 >= 0) return [...lines];
    const full = space.length;
    const at = (l: string | Placed): Placed => (typeof l === 'string' ? { depth: full, line: l } : l);
    const placed = lines.map(at);
    const maskLoad = leafLoads.find((p) => p.line.startsWith(`const ${val(w1)} = `))!;
    if (maskLoad.depth !== full) return [...lines];
    const rest = placed.filter((p) => p !== maskLoad);
    return [...rest.filter((p) => p.depth < full), maskLoad, `if (${val(w1)} !== 0) {`, ...rest.filter((p) => p.depth === full), '}'];
  };

  // ---- backward analysis (before the forward: the forward-saved variant runs the sweep too)
  const differentiable = body.leaves.map((t, l) => t.dtype === 'f32' && needsGrad?.[l] !== false);
  // live(k): node k's adjoint reaches a leaf whose gradient is wanted.
  const liveNode: boolean[] = [];
  const liveArg = (a: number): boolean => (a < 0 ? differentiable[-a - 1]! : liveNode[a]!);
  body.nodes.forEach((n, k) => liveNode.push(n.args.some(liveArg)));
  // A leaf over exactly the iteration space gets each element's gradient once: summed in a
  // local and stored (into the caller's array when given), never accumulated in memory.
  const direct = body.leaves.map((t, l) => differentiable[l]! && t.dims.length === space.length && t.dims.every((d, i) => d === space[i]));
  const addLeaf = (l: number, dims: readonly string[], sp: readonly string[], expr: string): string =>
    !differentiable[l] ? '' : direct[l] && sp === space ? `q${l} += ${expr};` : `gL${l}[${offsetExpr(dims, sp, sizes)}] += ${expr};`;
  const adj = (k: number): string => `a${k}`;
  // The adjoint the first reduction sends to its input at an element (`g1`: the adjoint of its
  // output there, `c` its count, `w` the element's weight); null for a reduction that sends none.
  const seedDx = red1 === null ? null : red1.op === 'sum' ? '(w !== 0 ? g1 * w : 0)' : red1.op === 'mean' ? '(c !== 0 && w !== 0 ? g1 * w / c : 0)' : null;
  const inner1 = red1 !== null && space.slice(0, red1.type.dims.length).every((d, i) => red1.type.dims[i] === d);
  const oLine: string | Placed | null = red1 === null ? null : inner1 ? { depth: red1.type.dims.length, line: `const o = ${offsetExpr(red1.type.dims, space, sizes)}, c = C1[o], g1 = d1[o];` } : `const o = ${offsetExpr(red1.type.dims, space, sizes)}, c = C1[o], g1 = d1[o];`;
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
  const adjDecl = [
    ...body.nodes.map((_, k) => k).filter((k) => isElement(k) && liveNode[k]).map((k) => `let ${adj(k)} = 0;`),
    ...body.leaves.map((_, l) => l).filter((l) => direct[l]).map((l) => `let q${l} = 0;`),
  ];
  const stores = body.leaves.map((_, l) => l).filter((l) => direct[l]).map((l) => `gL${l}[${offsetExpr(space, space, sizes)}] = q${l};`);
  // Forward-saved gradients: every wanted leaf is direct, the mask (a leaf, or none) wants no
  // gradient, and the reduction passes its adjoint on linearly (sum, mean, or none).
  const wanted = body.leaves.map((_, l) => l).filter((l) => differentiable[l]);
  const savesGrad =
    wanted.length > 0 && wanted.every((l) => direct[l]) && liveArg(x0) &&
    (red1 === null || (seedDx !== null && (w1 === null || (w1 < 0 && !differentiable[-w1 - 1]!))));
  const unitSeed = x0 < 0 ? addLeaf(-x0 - 1, body.leaves[-x0 - 1]!.dims, space, '1') : `${adj(x0)} += 1;`;
  const saveLines = savesGrad ? [...adjDecl, unitSeed, ...sweep, ...wanted.map((l) => `J${l}[${offsetExpr(space, space, sizes)}] = q${l};`)] : [];
  // The saved derivatives live in arrays the caller passes (`JA`, pooled: see below).
  const jacDecl = wanted.map((l) => `const J${l} = JA[${l}];`);
  const jacRet = `[${body.leaves.map((_, l) => (wanted.includes(l) ? `J${l}` : 'null')).join(', ')}]`;

  // ---- forward (`save`: the forward-saved variant)
  const forwardSource = (save: boolean): string => {
    const fwd: string[] = [...header, ...(save ? jacDecl : [])];
    const extra = save ? saveLines : [];
    const jac = save ? `, jac: ${jacRet}` : '';
    if (red1 === null) {
      fwd.push(`const out = new Float64Array(${outSize});`);
      fwd.push(...loops(space, sizes, [...leafLoads, ...elementLines, `out[${offsetExpr(rootDims, space, sizes)}] = ${val(x0)};`, ...extra]));
      fwd.push(`if (O !== undefined) for (let o = 0; o < ${outSize}; o++) O[o] = out[o];`);
      fwd.push(`return { out, acc: []${jac} };`);
      return fwd.join('\n');
    }
    fwd.push(`const s1 = new Float64Array(${o1Size}), c1 = new Float64Array(${o1Size}), r1 = new Float64Array(${o1Size});`);
    const o = offsetExpr(red1.type.dims, space, sizes);
    const wExpr = w1 === null ? '1' : val(w1);
    // Reducing over the innermost dims (the usual T): accumulate in locals, store once per output.
    const k1 = red1.type.dims.length;
    const acc: (string | Placed)[] = inner1
      ? [
          { depth: k1, line: 'let s = 0, c = 0;' },
          `{ const w = ${wExpr}; if (w !== 0) { s += ${val(x0)} * w; c += w; } }`,
          { depth: k1, line: `{ const o = ${o}; s1[o] += s; c1[o] += c; }`, post: true },
        ]
      : [`{ const o = ${o}, w = ${wExpr}; if (w !== 0) { s1[o] += ${val(x0)} * w; c1[o] += w; } }`];
    fwd.push(...loops(space, sizes, skipMasked([...leafLoads, ...elementLines, ...acc, ...extra])));
    fwd.push(...finishLines(jac));
    return fwd.join('\n');
  };
  // After the first reduction's sums `s1` and weights `c1`: its results, the second reduction,
  // the result's store (shared by the JS forward and `finish`, which other targets' loops call).
  const finishLines = (jac: string): string[] => {
    if (red1 === null) return [];
    const fin = [`for (let o = 0; o < ${o1Size}; o++) r1[o] = ${finalize(red1.op, 's1[o]', 'c1[o]')};`];
    if (red2 === null) {
      fin.push(`if (O !== undefined) for (let o = 0; o < ${o1Size}; o++) O[o] = r1[o];`);
      fin.push(`return { out: r1, acc: [{ s: s1, c: c1, r: r1 }]${jac} };`);
      return fin;
    }
    const w2 = red2.attrs['where'] === true ? red2.args[1]! : null;
    const space1 = red1.type.dims;
    const w2Load = w2 === null ? '1' : `L${-w2 - 1}[${offsetExpr(body.leaves[-w2 - 1]!.dims, space1, sizes)}]`;
    fin.push(`const s2 = new Float64Array(${outSize}), c2 = new Float64Array(${outSize}), r2 = new Float64Array(${outSize});`);
    fin.push(...loops(space1, sizes, [
      `const o1 = ${offsetExpr(space1, space1, sizes)}, o = ${offsetExpr(red2.type.dims, space1, sizes)}, w = ${w2Load};`,
      'if (w !== 0) s2[o] += r1[o1] * w;',
      'c2[o] += w;',
    ]));
    fin.push(`for (let o = 0; o < ${outSize}; o++) r2[o] = ${finalize(red2.op, 's2[o]', 'c2[o]')};`);
    fin.push(`if (O !== undefined) for (let o = 0; o < ${outSize}; o++) O[o] = r2[o];`);
    fin.push(`return { out: r2, acc: [{ s: s1, c: c1, r: r1 }, { s: s2, c: c2, r: r2 }]${jac} };`);
    return fin;
  };

  // ---- backward
  const bwd: string[] = [...header, ...(red1 !== null ? ['const C1 = st.acc[0].c, R1 = st.acc[0].r;'] : [])];
  bwd.push(...body.leaves.map((t, l) => {
    const n = prod(t.dims.map((d) => sizeOf(sizes, d)));
    if (!differentiable[l]) return `const gL${l} = null;`;
    return direct[l] ? `const gL${l} = I !== undefined && I[${l}] != null ? I[${l}] : new Float64Array(${n});` : `const gL${l} = new Float64Array(${n});`;
  }));
  const seed: (string | Placed)[] = [];
  // Adjoint of the first reduction's input at this element, and of its mask.
  if (red1 === null) {
    if (liveArg(x0)) seed.push(x0 < 0 ? addLeaf(-x0 - 1, body.leaves[-x0 - 1]!.dims, space, `dy[${offsetExpr(rootDims, space, sizes)}]`) : `${adj(x0)} += dy[${offsetExpr(rootDims, space, sizes)}];`);
  } else {
    seed.push(oLine!);
    seed.push(`const w = ${w1 === null ? '1' : val(w1)};`);
    if (seedDx !== null && liveArg(x0)) seed.push(x0 < 0 ? addLeaf(-x0 - 1, body.leaves[-x0 - 1]!.dims, space, seedDx) : `${adj(x0)} += ${seedDx};`);
    if (w1 !== null && liveArg(w1)) {
      const dw = red1.op === 'sum' ? `(w !== 0 ? g1 * ${val(x0)} : 0)` : red1.op === 'mean' ? `(c !== 0 ? g1 * ((w !== 0 ? ${val(x0)} : 0) - R1[o]) / c : 0)` : 'g1';
      seed.push(w1 < 0 ? addLeaf(-w1 - 1, body.leaves[-w1 - 1]!.dims, space, dw) : `${adj(w1)} += ${dw};`);
    }
  }
  // The adjoint coming back to each output of the first reduction (`d1`).
  const d1Lines: string[] = [];
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
    d1Lines.push(`const d1 = new Float64Array(${o1Size});`, ...loops(space1, sizes, inner));
  } else if (red1 !== null) {
    d1Lines.push('const d1 = dy;');
  }
  bwd.push(...d1Lines);
  const prologue = [...bwd];
  const guarded = w1 !== null && w1 < 0 && !liveArg(w1) ? skipMasked([...leafLoads, ...elementLines, ...adjDecl.filter((l) => l.startsWith('let a')), ...seed.filter((l) => l !== ''), ...sweep]) : null;
  bwd.push(...loops(space, sizes, guarded === null
    ? [...leafLoads, ...elementLines, ...adjDecl, ...seed.filter((l) => l !== ''), ...sweep, ...stores]
    : [...adjDecl.filter((l) => l.startsWith('let q')), ...guarded, ...stores]));
  const ret = `return [${body.leaves.map((_, l) => `gL${l}`).join(', ')}];`;
  bwd.push(ret);

  // The forward-saved backward: the seed at each element times the saved local derivative
  // (`+ 0`: a zero gradient is +0, as the recomputing backward's sums give it).
  const savedBackward = (): string => {
    const off = offsetExpr(space, space, sizes);
    const maskLoad = w1 !== null && w1 < 0 ? leafLoads.filter((p) => p.line.startsWith(`const ${val(w1)} = `)) : [];
    const seedLine = red1 === null ? `const s = dy[${offsetExpr(rootDims, space, sizes)}];` : `const w = ${w1 === null ? '1' : val(w1)}, s = ${seedDx};`;
    return [
      ...prologue,
      ...wanted.map((l) => `const J${l} = st.jac[${l}];`),
      ...loops(space, sizes, [...(oLine === null ? [] : [oLine]), ...maskLoad, seedLine, ...wanted.map((l) => `gL${l}[${off}] = s !== 0 ? s * J${l}[${off}] + 0 : 0;`)]),
      ret,
    ].join('\n');
  };

  const fwdSrc = forwardSource(false);
  const bwdSrc = bwd.join('\n');
  const saved = savesGrad ? { forward: forwardSource(true), backward: savedBackward() } : undefined;
  type Lib = Record<string, (x: number) => number>;
  type Into = readonly (WritableArray | null | undefined)[] | undefined;
  type Jac = (Float64Array | null)[];
  type Forward = (L: readonly HostArray[], F: Fn[], G: GradFn[], LIB: Lib, O: WritableArray | undefined, JA: Jac | undefined) => ForwardState;
  type Backward = (L: readonly HostArray[], F: Fn[], G: GradFn[], LIB: Lib, st: ForwardState, dy: HostArray, I: Into) => (HostArray | null)[];
  const makeForward = (src: string): Forward => new Function('L', 'F', 'G', 'LIB', 'O', 'JA', src) as Forward;
  const makeBackward = (src: string): Backward => new Function('L', 'F', 'G', 'LIB', 'st', 'dy', 'I', src) as Backward;
  const forward = makeForward(fwdSrc);
  const leafHeader = body.leaves.map((_, l) => `const L${l} = L[${l}];`);
  const finish = new Function('L', 'O', 's1', 'c1', [...leafHeader, `const r1 = new Float64Array(${o1Size});`, ...finishLines('')].join('\n')) as JsKernel['finish'];
  const seedD1 = new Function('L', 'st', 'dy', [...leafHeader, ...d1Lines, 'return d1;'].join('\n')) as JsKernel['seedD1'];
  const backward = makeBackward(bwdSrc);
  const forwardSaved = saved === undefined ? forward : makeForward(saved.forward);
  const backwardSaved = saved === undefined ? backward : makeBackward(saved.backward);
  // The saved derivatives' arrays are reused once their backward pass has read them (a bounded
  // pool shared by all kernels, ./scratch-pool.ts): a fresh multi-megabyte array per call costs
  // its zeroing and, worse, garbage collections that made the kernel's time vary 3x between
  // calls. Every element a backward pass reads is written by its forward pass (it reads only
  // where the seed is nonzero, which the forward never skips).
  const spaceSize = prod(space.map((d) => sizeOf(sizes, d)));
  const released = new WeakSet<ForwardState>();
  return {
    outSize,
    direct,
    savesGrad,
    forward: (leaves, out, saveGrad) => {
      if (saveGrad !== true || !savesGrad) return forward(leaves, F, G, lib, out, undefined);
      const ja = body.leaves.map((_, l) => (wanted.includes(l) ? takeScratch(spaceSize) : null));
      return forwardSaved(leaves, F, G, lib, out, ja);
    },
    backward: (leaves, st, dy, into) => {
      // A state whose arrays went back to the pool (a second backward of one forward) recomputes.
      if (st.jac === undefined || released.has(st)) return backward(leaves, F, G, lib, st, dy, into);
      const g = backwardSaved(leaves, F, G, lib, st, dy, into);
      released.add(st);
      for (const a of st.jac) if (a !== null) giveScratch(a);
      return g;
    },
    source: { forward: fwdSrc, backward: bwdSrc, ...(saved !== undefined ? { saved } : {}) },
    finish,
    seedD1,
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
