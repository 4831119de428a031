/**
 * Generated WGSL kernels on the webgpu backend (lavapipe in CI): for every fused body of every
 * stdlib pipeline, the forward against the float64 JS kernel's forward, and the backward (through
 * `tf.customGrad`, with a random cotangent) against the JS kernel's backward, within 1e-4
 * relative; for grpo, dapo, dpo and gspo the backward also against central differences of the
 * float64 forward. Two size sets: T = 5 (a thread loops over each reduced row) and T = 150 (a
 * workgroup reduces each row in workgroup memory). Skipped without an adapter unless
 * RLP_REQUIRE_WEBGPU=1.
 */
import { describe, expect, it } from 'vitest';
import { optimize } from '../../../compiler/compile.js';
import { parseBody, type FusedBody } from '../../../compiler/codegen/body.js';
import { compileJsKernel } from '../../../compiler/codegen/js-kernel.js';
import { compileWgslKernel, MAX_STORAGE_BUFFERS } from '../../../compiler/codegen/wgsl-kernel.js';
import { lowerFusedWgsl, toWebGPUProgram } from '../../../compiler/codegen/wgsl-lower.js';
import { TF_DTYPE } from '../../../compiler/codegen/body.js';
import { runPipeline } from '../../../compiler/passes/index.js';
import type { Tensor } from '../../../compiler/ops/define.js';
import { useBackend, webgpuAvailable } from '../../../runtime/backends/index.js';
import { stdlibPipelines } from '../../../runtime/cli/resolve-target.js';
import { rng } from '../../helpers/random-batch.js';
import { firstMiss, stdlibPipeline } from '../../helpers/stdlib-harness.js';

const available = (await webgpuAvailable()) || process.env['RLP_REQUIRE_WEBGPU'] === '1';
const SMALL = new Map([['B', 2], ['G', 3], ['T', 5]]);
const LONG = new Map([['B', 2], ['G', 3], ['T', 150]]);
const CENTRAL = ['grpo', 'dapo', 'dpo', 'gspo'];

function bodies(): { pipeline: string; name: string; body: FusedBody }[] {
  const out: { pipeline: string; name: string; body: FusedBody }[] = [];
  for (const name of stdlibPipelines().keys()) {
    const p = stdlibPipeline(name);
    const g = optimize(p.name, p.file, p.raw, runPipeline(new Map())).ir;
    for (const n of g.ordered()) if (n.op === 'fused') out.push({ pipeline: name, name: `${name} %${n.id} (${String(n.attrs['ops'])})`, body: parseBody(n.attrs['body']) });
  }
  return out;
}

/** Random leaves as js-kernel.test.ts draws them: masks 0/1, ints 1..3, clip bounds around (0.2, 0.8), floats in it. */
function leavesFor(body: FusedBody, sizes: ReadonlyMap<string, number>, seed: number): Float64Array[] {
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
    if (dtype === 'i32') return 1 + Math.floor(r() * 3);
    if (lows.has(l)) return 0.1 + 0.2 * r();
    if (highs.has(l)) return 0.7 + 0.2 * r();
    return 0.2 + 0.6 * r();
  };
  // Float32-representable, so both kernels see the same inputs.
  return body.leaves.map((t, l) => Float64Array.from({ length: t.dims.reduce((a, d) => a * sizes.get(d)!, 1) }, () => Math.fround(draw(l, t.dtype))));
}

/** Leaves whose value reaches a stop_gradient (their differences are not their gradient). */
function stopped(body: FusedBody): Set<number> {
  const out = new Set<number>();
  const visit = (a: number): void => {
    if (a < 0) out.add(-a - 1);
    else for (const x of body.nodes[a]!.args) visit(x);
  };
  body.nodes.forEach((n) => { if (n.op === 'stop_gradient') visit(n.args[0]!); });
  return out;
}

const all = available ? bodies() : [];

/** The size set with every other dim a body uses (declared dims: C, K, P...) at 3. */
function withDims(body: FusedBody, base: ReadonlyMap<string, number>): Map<string, number> {
  const sizes = new Map(base);
  for (const t of [...body.leaves, ...body.nodes.map((n) => n.type)]) for (const d of t.dims) if (!sizes.has(d)) sizes.set(d, 3);
  return sizes;
}

describe('generated WGSL programs', () => {
  it('bake every size into the source, which is the pipeline cache key', () => {
    const p = stdlibPipeline('grpo');
    const g = optimize(p.name, p.file, p.raw, runPipeline(new Map())).ir;
    const body = parseBody(g.ordered().find((n) => n.op === 'fused' && String(n.attrs['ops']).includes('exp'))!.attrs['body']);
    const a = compileWgslKernel(body, withDims(body, SMALL));
    const b = compileWgslKernel(body, withDims(body, new Map([['B', 4], ['G', 3], ['T', 5]])));
    const programs = (k: typeof a) => [...k.forward, ...k.backward.flat()];
    programs(a).forEach((p, i) => {
      expect(p.code).not.toBe(programs(b)[i]!.code);
      const key = toWebGPUProgram(p).shaderKey;
      expect(key).toContain(p.code);
      expect(programs(b).some((q) => toWebGPUProgram(q).shaderKey === key)).toBe(false);
    });
  });
});

describe.runIf(available)('generated WGSL kernels on webgpu', () => {
  it('exist for the stdlib, and some need their leaves packed into one buffer', () => {
    expect(all.some((b) => b.pipeline === 'grpo')).toBe(true);
    const packed = all.filter((b) => compileWgslKernel(b.body, withDims(b.body, SMALL)).forward.some((p) => p.inputs.some((i) => i.kind === 'pack')));
    expect(packed.length).toBeGreaterThan(0);
    for (const b of all) for (const p of compileWgslKernel(b.body, withDims(b.body, SMALL)).forward) expect(p.inputs.length).toBeLessThan(MAX_STORAGE_BUFFERS);
  });

  for (const { pipeline, name, body } of all) {
    it(`${name}: forward and backward match the float64 kernel${CENTRAL.includes(pipeline) ? ' and central differences' : ''}`, async () => {
      const { tf } = await useBackend('webgpu');
      for (const sizes of [withDims(body, SMALL), withDims(body, LONG)]) {
        const wk = compileWgslKernel(body, sizes);
        const jk = compileJsKernel(body, sizes);
        const host = leavesFor(body, sizes, 5);
        const shapeOf = (dims: readonly string[]): number[] => dims.map((d) => sizes.get(d)!);
        const root = body.nodes[body.nodes.length - 1]!.type;
        const outShape = shapeOf(root.dims);
        const xs = body.leaves.map((t, l) => tf.tensor(Float32Array.from(host[l]!), shapeOf(t.dims), TF_DTYPE[t.dtype]));
        const r = rng(9);
        const cot = Float64Array.from({ length: jk.outSize }, () => Math.fround(r() - 0.5));
        const st = jk.forward(host);
        const fused = (...a: Tensor[]): Tensor => lowerFusedWgsl(tf, a, wk, outShape, TF_DTYPE[root.dtype]);
        const value = fused(...xs);
        const miss = firstMiss(await value.data(), st.out, 1e-4, 0.1);
        expect(miss, `${name} T=${sizes.get('T')}: forward`).toBeNull();
        if (root.dtype !== 'f32') continue;
        const grads = tf.grads((...a: Tensor[]) => tf.sum(tf.mul(fused(...a), tf.tensor(Float32Array.from(cot), outShape))))(xs);
        const want = jk.backward(host, st, cot);
        for (let l = 0; l < xs.length; l++) {
          if (want[l] === null) continue;
          const got = await grads[l]!.data();
          expect(firstMiss(got, want[l]!, 1e-4, 0.1, 1e-6), `${name} T=${sizes.get('T')}: gradient of leaf ${l}`).toBeNull();
        }
        // Central differences of the float64 forward, on the small sizes (every element).
        if (CENTRAL.includes(pipeline) && sizes.get('T') === SMALL.get('T')) {
          const masks = new Set(body.nodes.filter((n) => n.attrs['where'] === true).map((n) => n.args[1]!).filter((a) => a < 0).map((a) => -a - 1));
          const f = (ys: Float64Array[]): number => jk.forward(ys).out.reduce((a, v, i) => a + v * cot[i]!, 0);
          for (let l = 0; l < xs.length; l++) {
            if (body.leaves[l]!.dtype !== 'f32' || masks.has(l) || stopped(body).has(l)) continue;
            const got = await grads[l]!.data();
            host[l]!.forEach((x0, i) => {
              const h = 1e-6 * Math.max(1, Math.abs(x0));
              const at = (x: number): number => { const y = host.map((a) => Float64Array.from(a)); y[l]![i] = x; return f(y); };
              const fd = (at(x0 + h) - at(x0 - h)) / (2 * h);
              if (Math.abs(fd - got[i]!) > 1e-4 * Math.max(1, Math.abs(fd))) {
                // Kinks (clip, min, max, comparisons): one-sided slopes differ there; skip those points.
                const right = (at(x0 + 4 * h) - at(x0)) / (4 * h);
                const left = (at(x0) - at(x0 - 4 * h)) / (4 * h);
                expect(Math.abs(right - left), `${name} leaf ${l}[${i}]: WGSL backward ${got[i]}, differences ${fd}`).toBeGreaterThan(1e-6);
              }
            });
          }
        }
        tf.dispose([...xs, value, ...grads]);
      }
    }, 60_000);
  }
});
