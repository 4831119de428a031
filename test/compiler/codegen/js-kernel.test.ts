/**
 * Generated kernels: the forward against the reference interpreter's unfused evaluation of the
 * same ops, and the backward against central differences of the forward, for every fused body
 * of every stdlib pipeline (float64, on random leaves; masks are 0/1 leaves).
 */
import { describe, expect, it } from 'vitest';
import { optimize } from '../../../compiler/compile.js';
import { bodyShape, parseBody, type FusedBody } from '../../../compiler/codegen/body.js';
import { compileJsKernel } from '../../../compiler/codegen/js-kernel.js';
import { giveScratch } from '../../../compiler/codegen/scratch-pool.js';
import { runPipeline } from '../../../compiler/passes/index.js';
import { stdlibPipelines } from '../../../runtime/cli/resolve-target.js';
import { DEFAULT_DIM_SIZE } from '../../helpers/pipeline-batch.js';
import { rng } from '../../helpers/random-batch.js';
import { stdlibPipeline } from '../../helpers/stdlib-harness.js';

// B, G, T, and a pipeline's own dims (C, K, P, H...) at the size the batch helper gives them.
const SIZES = new Map([['B', 2], ['G', 3], ['T', 4]]);
const sizeOf = (d: string): number => SIZES.get(d) ?? DEFAULT_DIM_SIZE;
const size = (dims: readonly string[]): number => dims.reduce((a, d) => a * sizeOf(d), 1);

/** Sizes of every dim a body uses. */
function sizesFor(body: FusedBody): Map<string, number> {
  const out = new Map(SIZES);
  for (const t of [...body.leaves, ...body.nodes.map((n) => n.type)]) for (const d of t.dims) out.set(d, sizeOf(d));
  return out;
}

/** Every fused body of every stdlib pipeline, specialized to its defaults. */
function bodies(): { name: string; body: FusedBody }[] {
  const out: { name: string; body: FusedBody }[] = [];
  for (const name of stdlibPipelines().keys()) {
    const p = stdlibPipeline(name);
    const g = optimize(p.name, p.file, p.raw, runPipeline(new Map())).ir;
    for (const n of g.ordered()) if (n.op === 'fused') out.push({ name: `${name} %${n.id} (${String(n.attrs['ops'])})`, body: parseBody(n.attrs['body']) });
  }
  return out;
}

/** Random leaves in (0.2, 0.8): masks (used as `where`) are 0/1, clip bounds below and above that range. */
function leavesFor(body: FusedBody, seed: number): Float64Array[] {
  const r = rng(seed);
  const masks = new Set<number>();
  const lows = new Set<number>();
  const highs = new Set<number>();
  for (const n of body.nodes) {
    if (n.attrs['where'] === true && n.args[1]! < 0) masks.add(-n.args[1]! - 1);
    if (n.op === 'clip' && n.args[1]! < 0) lows.add(-n.args[1]! - 1);
    if (n.op === 'clip' && n.args[2]! < 0) highs.add(-n.args[2]! - 1);
  }
  const draw = (l: number, dtype: string): number => {
    if (masks.has(l) || dtype === 'bool') return r() < 0.7 ? 1 : 0;
    // An integer clip bound stays on its side of (0.2, 0.8) too: clip's derivative assumes lo <= hi.
    if (dtype === 'i32' && lows.has(l)) return 0;
    if (dtype === 'i32' && highs.has(l)) return 1;
    if (dtype === 'i32') return 1 + Math.floor(r() * 3);
    if (lows.has(l)) return 0.1 + 0.2 * r();
    if (highs.has(l)) return 0.7 + 0.2 * r();
    return 0.2 + 0.6 * r();
  };
  return body.leaves.map((t, l) => Float64Array.from({ length: size(t.dims) }, () => draw(l, t.dtype)));
}

/** Leaves whose value reaches a stop_gradient: differences see them, the gradient rightly does not. */
function stopped(body: FusedBody): Set<number> {
  const out = new Set<number>();
  const visit = (a: number): void => {
    if (a < 0) out.add(-a - 1);
    else for (const x of body.nodes[a]!.args) visit(x);
  };
  body.nodes.forEach((n) => { if (n.op === 'stop_gradient') visit(n.args[0]!); });
  return out;
}

const all = bodies();

describe('generated JS kernels', () => {
  it('exist for the stdlib (grpo, dpo and others fuse their losses)', () => {
    expect(all.some((b) => b.name.startsWith('grpo '))).toBe(true);
    expect(all.some((b) => b.name.startsWith('dpo '))).toBe(true);
    expect(all.length).toBeGreaterThan(20);
  });

  for (const { name, body } of all) {
    it(`${name}: the backward matches central differences of the forward`, () => {
      const k = compileJsKernel(body, sizesFor(body));
      const xs = leavesFor(body, 5);
      const st = k.forward(xs);
      const r = rng(9);
      const cot = Float64Array.from({ length: k.outSize }, () => r() - 0.5);
      const grads = k.backward(xs, st, cot);
      const f = (ys: Float64Array[]): number => k.forward(ys).out.reduce((a, v, i) => a + v * cot[i]!, 0);
      const shape = bodyShape(body);
      const masks = new Set(body.nodes.filter((n) => n.attrs['where'] === true).map((n) => n.args[1]!).filter((a) => a < 0).map((a) => -a - 1));
      body.leaves.forEach((t, l) => {
        if (t.dtype !== 'f32' || masks.has(l) || stopped(body).has(l)) return;
        xs[l]!.forEach((x0, i) => {
          const h = 1e-6 * Math.max(1, Math.abs(x0));
          const up = xs.map((x) => Float64Array.from(x));
          const dn = xs.map((x) => Float64Array.from(x));
          up[l]![i] = x0 + h;
          dn[l]![i] = x0 - h;
          const fd = (f(up) - f(dn)) / (2 * h);
          const got = grads[l]![i]!;
          // Kinks (clip, min, max, comparisons) are not differentiable: skip points within h of one.
          if (Math.abs(fd - got) > 1e-5 * Math.max(1, Math.abs(fd))) {
            const near = [x0 + 4 * h, x0 - 4 * h].map((x) => { const y = xs.map((a) => Float64Array.from(a)); y[l]![i] = x; return (f(y) - f(xs)) / (x - x0); });
            expect(Math.abs(near[0]! - near[1]!), `${name} leaf ${l}[${i}]: backward ${got}, differences ${fd}`).toBeGreaterThan(1e-6);
          }
        });
      });
      expect(shape.dims.length).toBeGreaterThanOrEqual(0);
    });
  }

  // The training path asks one gradient (masks and the rest not), and writes the result and the
  // whole-space gradients straight into float32 tensors: same values as the full float64 kernel.
  for (const { name, body } of all) {
    it(`${name}: asking fewer gradients, into float32 arrays, gives the same gradients`, () => {
      const full = compileJsKernel(body, sizesFor(body));
      const masks = new Set(body.nodes.filter((n) => n.attrs['where'] === true).map((n) => n.args[1]!).filter((a) => a < 0).map((a) => -a - 1));
      const needs = body.leaves.map((t, l) => t.dtype === 'f32' && !masks.has(l));
      const some = compileJsKernel(body, sizesFor(body), needs);
      const xs = leavesFor(body, 11);
      const r = rng(3);
      const cot = Float64Array.from({ length: full.outSize }, () => r() - 0.5);
      const want = full.backward(xs, full.forward(xs), cot);
      const out = new Float32Array(some.outSize);
      const st = some.forward(xs, out);
      expect(Array.from(out)).toEqual(Array.from(st.out, (v) => Math.fround(v)));
      const into = body.leaves.map((t, l) => (some.direct[l] ? new Float32Array(size(t.dims)).fill(NaN) : null));
      const got = some.backward(xs, st, cot, into);
      body.leaves.forEach((_, l) => {
        if (!needs[l]) return;
        if (some.direct[l]) expect(got[l]).toBe(into[l]);
        const g = Array.from(got[l]!);
        const w = Array.from(want[l]!);
        g.forEach((v, i) => expect(Math.abs(v - w[i]!), `${name} leaf ${l}[${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w[i]!))));
      });
    });
  }

  // Asking only the whole-space gradients (logp's, as training does), the forward pass saves the
  // local derivatives and the backward pass only scales them: the same gradients as recomputing.
  /** The leaves over the whole iteration space, masks excepted. */
  const wholeSpace = (body: FusedBody): boolean[] => {
    const masks = new Set(body.nodes.filter((n) => n.attrs['where'] === true).map((n) => n.args[1]!).filter((a) => a < 0).map((a) => -a - 1));
    const space = bodyShape(body).dims;
    return body.leaves.map((t, l) => t.dtype === 'f32' && !masks.has(l) && t.dims.length === space.length && t.dims.every((d, i) => d === space[i]));
  };
  for (const { name, body } of all) {
    const needs = wholeSpace(body);
    if (!needs.some((x) => x)) continue;
    it(`${name}: gradients saved by the forward pass equal the recomputed ones`, () => {
      const k = compileJsKernel(body, sizesFor(body), needs);
      const xs = leavesFor(body, 13);
      const r = rng(4);
      const cot = Float64Array.from({ length: k.outSize }, () => r() - 0.5);
      const want = k.backward(xs, k.forward(xs), cot);
      // The saved arrays come from a shared pool with stale contents: NaN-filled ones here, so a
      // read of an element its forward pass did not write would show.
      const n = bodyShape(body).dims.reduce((a, d) => a * sizesFor(body).get(d)!, 1);
      for (let i = 0; i < 4; i++) giveScratch(new Float64Array(n).fill(NaN));
      const st = k.forward(xs, undefined, true);
      expect(st.jac !== undefined).toBe(k.savesGrad);
      const into = body.leaves.map((t, l) => (k.direct[l] ? new Float64Array(size(t.dims)).fill(NaN) : null));
      const got = k.backward(xs, st, cot, into);
      body.leaves.forEach((_, l) => {
        if (!needs[l]) return;
        const w = Array.from(want[l]!);
        Array.from(got[l]!).forEach((v, i) => expect(Math.abs(v - w[i]!), `${name} leaf ${l}[${i}]`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(w[i]!))));
      });
    });
  }
  it('save the gradient in the forward pass for the losses of grpo, dapo, gspo and dpo', () => {
    const savers = all.filter(({ body }) => wholeSpace(body).some((x) => x) && compileJsKernel(body, sizesFor(body), wholeSpace(body)).savesGrad).map((b) => b.name);
    for (const p of ['grpo', 'dapo', 'gspo', 'dpo']) expect(savers.some((n) => n.startsWith(`${p} `)), p).toBe(true);
  });
});
