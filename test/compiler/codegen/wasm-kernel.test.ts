/**
 * Generated WebAssembly kernels (compiler/codegen/wasm-kernel.ts) against the JS kernels of the
 * same bodies, which js-kernel.test.ts holds to the reference interpreter and central
 * differences: every fused body of every stdlib pipeline the wasm compiler covers, at an even and
 * an odd innermost size (a pair loop and a one-element tail), on random leaves with values on
 * both sides of every clip and min, and on leaves holding 0, -0, +-Infinity, NaN and huge values.
 * Forward results, the reductions' float64 sums and weights, and saved-gradient backward passes.
 * The kernels run on a memory of the test's own (the TF.js heap is one `WasmHeap` among others).
 */
import { describe, expect, it } from 'vitest';
import { optimize } from '../../../compiler/compile.js';
import { bodyShape, parseBody, type FusedBody } from '../../../compiler/codegen/body.js';
import { compileJsKernel } from '../../../compiler/codegen/js-kernel.js';
import { compileWasmKernel, wasmUnsupported, type WasmHeap } from '../../../compiler/codegen/wasm-kernel.js';
import { runPipeline } from '../../../compiler/passes/index.js';
import { stdlibPipelines } from '../../../runtime/cli/resolve-target.js';
import { DEFAULT_DIM_SIZE } from '../../helpers/pipeline-batch.js';
import { rng } from '../../helpers/random-batch.js';
import { stdlibPipeline } from '../../helpers/stdlib-harness.js';
import type { TensorType } from '../../../compiler/types.js';

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

/** A heap of the test's own: a memory and a bump allocator that checks every free. */
function testHeap(): WasmHeap & { live: Set<number> } {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 4096 });
  let top = 64;
  const live = new Set<number>();
  return {
    memory,
    live,
    malloc(bytes) {
      const p = top;
      top += (bytes + 15) & ~15;
      const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536;
      if (need > 0) memory.grow(need);
      live.add(p);
      return p;
    },
    free(p) {
      if (!live.delete(p)) throw new Error(`free of ${p}, not allocated`);
    },
  };
}

const SPECIAL = [0, -0, Infinity, -Infinity, NaN, 1e30, -1e30, 800, -800];

/** Leaves as float32 arrays: masks 0/1, clip bounds low and high, others spread over (-3, 3) (or special values). */
function leavesFor(body: FusedBody, sizes: ReadonlyMap<string, number>, seed: number, special: boolean): Float32Array[] {
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
    if (masks.has(l)) return r() < 0.6 ? 1 : 0;
    if (dtype === 'i32') return lows.has(l) ? 0 : highs.has(l) ? 2 : Math.floor(r() * 4) - 1;
    if (lows.has(l)) return 0.5 + 0.3 * r();
    if (highs.has(l)) return 1.2 + 0.3 * r();
    if (special && r() < 0.3) return SPECIAL[Math.floor(r() * SPECIAL.length)]!;
    return 6 * r() - 3;
  };
  return body.leaves.map((t, l) => {
    const n = t.dims.reduce((a, d) => a * sizes.get(d)!, 1);
    const a = Float64Array.from({ length: n }, () => draw(l, t.dtype));
    return t.dtype === 'i32' ? (Int32Array.from(a) as unknown as Float32Array) : Float32Array.from(a);
  });
}

/** Same value: both NaN, equal, or within `rel` of each other. */
function close(a: number, b: number, rel: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return a === b || Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}

function copyIn(heap: WasmHeap, a: Float32Array): number {
  const p = heap.malloc(a.byteLength);
  new Uint8Array(heap.memory.buffer, p, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return p;
}

const all = bodies();
const f32 = (dims: string[]): TensorType => ({ kind: 'tensor', dtype: 'f32', dims, mask: null, covers: null });
const LOSSES = ['grpo', 'dapo', 'gspo', 'dpo'];

describe('generated WebAssembly kernels', () => {
  it('cover the fused losses of grpo, dapo, gspo and dpo, with their saved gradients', () => {
    for (const name of LOSSES) {
      const losses = all.filter((b) => b.name.startsWith(`${name} `) && bodyShape(b.body).reductions.length > 0 && b.body.leaves.some((t) => t.dims.includes('T')));
      expect(losses.length, name).toBeGreaterThan(0);
      for (const { body } of losses) {
        const sizes = new Map(body.leaves.flatMap((t) => t.dims).map((d) => [d, 4] as const));
        expect(wasmUnsupported(body, sizes), name).toBeNull();
      }
    }
  });

  it('say why a body is not covered', () => {
    const body: FusedBody = { leaves: [f32(['T'])], nodes: [{ op: 'log', args: [-1], attrs: {}, type: f32(['T']) }] };
    expect(wasmUnsupported(body, new Map([['T', 3]]))).toMatch(/Math\.log/);
  });

  for (const { name, body } of all) {
    for (const inner of [4, 5]) {
      const sizes = new Map<string, number>();
      for (const t of [...body.leaves, ...body.nodes.map((n) => n.type)]) for (const d of t.dims) sizes.set(d, d === 'T' ? inner : d === 'B' ? 2 : d === 'G' ? 3 : DEFAULT_DIM_SIZE);
      const space = bodyShape(body).dims;
      // The innermost dim is the one vectorized: give it the odd size when it is not T.
      if (space.length > 0 && space[space.length - 1] !== 'T') sizes.set(space[space.length - 1]!, inner);
      if (wasmUnsupported(body, sizes) !== null) continue;
      it(`${name}, innermost ${inner}: forward and saved backward equal the JS kernel's`, () => {
        for (const [seed, special] of [[1, false], [2, false], [3, true]] as const) {
          const leaves = leavesFor(body, sizes, seed, special);
          const needs = body.leaves.map((t) => t.dtype === 'f32');
          const js = compileJsKernel(body, sizes, needs);
          const wk = compileWasmKernel(body, sizes, js, needs)!;
          const heap = testHeap();
          const ptrs = leaves.map((a) => copyIn(heap, a));
          const out = heap.malloc(4 * js.outSize);
          const views = (): { leaves: Float32Array[]; out: Float32Array } => ({
            leaves: leaves.map((a, l) => new (a.constructor as Float32ArrayConstructor)(heap.memory.buffer, ptrs[l]!, a.length)),
            out: new Float32Array(heap.memory.buffer, out, js.outSize),
          });
          const jsOut = new Float32Array(js.outSize);
          const jst = js.forward(leaves, jsOut, true);
          const wst = wk.forward(heap, ptrs, out, views, true);
          const got = views().out;
          for (let i = 0; i < js.outSize; i++) expect(close(got[i]!, jsOut[i]!, 3e-7), `seed ${seed} out[${i}]: wasm ${got[i]}, js ${jsOut[i]}`).toBe(true);
          jst.acc.forEach((a, r) => {
            for (let o = 0; o < a.s.length; o++) {
              expect(close(wst.acc[r]!.s[o]!, a.s[o]!, 1e-12), `seed ${seed} sum ${r}[${o}]: wasm ${wst.acc[r]!.s[o]}, js ${a.s[o]}`).toBe(true);
              expect(close(wst.acc[r]!.c[o]!, a.c[o]!, 1e-12), `seed ${seed} weight ${r}[${o}]`).toBe(true);
            }
          });
          // The saved backward, seeded by random adjoints of the result.
          const r = rng(seed + 10);
          const dy = Float32Array.from({ length: js.outSize }, () => r() - 0.5);
          const dyPtr = copyIn(heap, dy);
          const into = leaves.map((a, l) => (js.direct[l] ? heap.malloc(4 * a.length) : -1));
          const jsInto = leaves.map((a, l) => (js.direct[l] ? new Float32Array(a.length) : null));
          js.backward(leaves, jst, dy, jsInto);
          const saved = wk.backward(heap, ptrs, wst, dyPtr, into, () => ({ ...views(), dy: new Float32Array(heap.memory.buffer, dyPtr, dy.length) }));
          expect(saved).toBe(js.savesGrad);
          if (!saved) continue;
          leaves.forEach((a, l) => {
            if (jsInto[l] === null) return;
            const g = new Float32Array(heap.memory.buffer, into[l]!, a.length);
            for (let i = 0; i < a.length; i++) expect(close(g[i]!, jsInto[l]![i]!, 3e-7), `seed ${seed} grad ${l}[${i}]: wasm ${g[i]}, js ${jsInto[l]![i]}`).toBe(true);
          });
          // A second backward of one forward finds its saved arrays given back.
          expect(wk.backward(heap, ptrs, wst, dyPtr, into, () => ({ ...views(), dy }))).toBe(false);
          // Every scratch array went back: only the test's own are live.
          expect(heap.live.size).toBe(leaves.length + 2 + into.filter((p) => p !== -1).length);
        }
      });
    }
  }

  it('give minimum and maximum the semantics of Math.min and Math.max: NaN from either side, -0 below +0', () => {
    const vals = [0, -0, 1, -1, NaN, Infinity, -Infinity, 2.5];
    const xs = vals.flatMap((a) => vals.map(() => a));
    const ys = vals.flatMap(() => vals);
    const N = xs.length;
    for (const [op, want] of [['minimum', Math.min], ['maximum', Math.max]] as const) {
      const body: FusedBody = { leaves: [f32(['T']), f32(['T'])], nodes: [{ op, args: [-1, -2], attrs: {}, type: f32(['T']) }] };
      const sizes = new Map([['T', N]]);
      const js = compileJsKernel(body, sizes, [false, false]);
      const wk = compileWasmKernel(body, sizes, js, [false, false])!;
      const heap = testHeap();
      const px = copyIn(heap, Float32Array.from(xs));
      const py = copyIn(heap, Float32Array.from(ys));
      const out = heap.malloc(4 * N);
      wk.forward(heap, [px, py], out, () => ({ leaves: [], out: new Float32Array(N) }), false);
      const got = new Float32Array(heap.memory.buffer, out, N);
      for (let i = 0; i < N; i++) expect(Object.is(got[i], want(xs[i]!, ys[i]!)), `${op}(${xs[i]}, ${ys[i]}): ${got[i]}`).toBe(true);
    }
  });

  it('compute e^x within 2 ulp of Math.exp over the whole range, and exactly at its edges', () => {
    // exp, then a sum over a dim of one element (the one-element tail): the sums hold e^x in float64.
    const N = 20000;
    const body: FusedBody = { leaves: [f32(['B', 'T'])], nodes: [{ op: 'exp', args: [-1], attrs: {}, type: f32(['B', 'T']) }, { op: 'sum', args: [0], attrs: { over: ['T'] }, type: f32(['B']) }] };
    const sizes = new Map([['B', N], ['T', 1]]);
    const js = compileJsKernel(body, sizes, [false]);
    const wk = compileWasmKernel(body, sizes, js, [false])!;
    const r = rng(5);
    const edges = [0, -0, 1, -1, 709.7, 709.78, 709.8, -708.4, -744.4, -745.2, -746, 710, Infinity, -Infinity, NaN, 1e-10, -1e-300];
    const xs = Float32Array.from({ length: N }, (_, i) => (i < edges.length ? edges[i]! : 1490 * r() - 745));
    const heap = testHeap();
    const p = copyIn(heap, xs);
    const st = wk.forward(heap, [p], heap.malloc(4 * N), () => ({ leaves: [new Float32Array(heap.memory.buffer, p, N)], out: new Float32Array(N) }), false);
    const ulp = (x: number): number => {
      const b = new Float64Array([Math.abs(x)]);
      const i = new BigInt64Array(b.buffer);
      i[0]! += 1n;
      return b[0]! - Math.abs(x);
    };
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const want = Math.exp(xs[i]!);
      const got = st.acc[0]!.s[i]!;
      if (!Number.isFinite(want) || want === 0) {
        expect(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)), `e^${xs[i]}: ${got}, Math.exp ${want}`).toBe(true);
        continue;
      }
      worst = Math.max(worst, Math.abs(got - want) / ulp(want));
    }
    expect(worst).toBeLessThanOrEqual(2);
  });
});
