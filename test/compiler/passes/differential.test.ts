/**
 * Every pass on every stdlib pipeline, differentially: the IR after each prefix of the run's pass
 * pipeline (param-specialize, fold-constants, simplify, cse, dce, fuse) against `-O0` (the raw
 * IR), on random batches, through `evaluate` as `rlp eval` runs it: `loss`, `advantage` and
 * `grad.logp`, within 1e-5 relative on cpu and 1e-4 on wasm (and webgpu where an adapter exists).
 * Relative to max(|value|, 0.1 x the tensor's largest |value|), and for the scalar loss to
 * max(|loss|, 1e-3): `-O0` computes in float32, the fused kernels in float64, so where terms
 * cancel (apo_down's gradient, a loss of ~1e-4) the difference is -O0's rounding of the terms
 * (checked: there the fused gradient is the closer one to the float64 reference).
 */
import { describe, expect, it } from 'vitest';
import { optimize } from '../../../compiler/compile.js';
import { runPipeline } from '../../../compiler/passes/index.js';
import { makeSource, span } from '../../../grammar/source.js';
import { useBackend, webgpuAvailable, type BackendName } from '../../../runtime/backends/index.js';
import { stdlibPipelines } from '../../../runtime/cli/resolve-target.js';
import { buildPlan } from '../../../runtime/exec/plan.js';
import { evaluate, type EvalOutputs } from '../../../runtime/eval/evaluate.js';
import { validateBatch, type ValidBatch } from '../../../runtime/eval/validate.js';
import type { IrGraph } from '../../../compiler/ir/graph.js';
import { pipelineBatch } from '../../helpers/pipeline-batch.js';
import { firstMiss, stdlibPipeline } from '../../helpers/stdlib-harness.js';

const here = span(makeSource('batch', ''), 0, 0);
const BACKENDS: BackendName[] = ['cpu', 'wasm', ...((await webgpuAvailable()) ? (['webgpu'] as const) : [])];
const TOL: Record<string, number> = { cpu: 1e-5, wasm: 1e-4, webgpu: 1e-4 };
const names = [...stdlibPipelines().keys()];

function planOn(g: IrGraph, vb: ValidBatch): ValidBatch {
  const want = g.outputs.filter((o) => g.node(o.node).type.kind === 'tensor').map((o) => o.name);
  return { ...vb, plan: buildPlan(g, vb.entries.map((e) => e.name), want) };
}

function compare(name: string, a: EvalOutputs, b: EvalOutputs, tol: number): void {
  for (const k of ['loss', 'advantage', 'grad.logp']) {
    if (b[k] === undefined) continue;
    expect(a[k], `${name}: ${k} missing`).toBeDefined();
    const scalar = b[k]!.data.length === 1;
    const miss = scalar
      ? Math.abs(a[k]!.data[0]! - b[k]!.data[0]!) <= tol * Math.max(Math.abs(b[k]!.data[0]!), 1e-3) ? null : `got ${a[k]!.data[0]}, want ${b[k]!.data[0]}`
      : firstMiss(a[k]!.data, b[k]!.data, tol, 0.1);
    if (miss !== null) throw new Error(`${name}: ${k}: ${miss}`);
  }
}

describe.each(BACKENDS)('every pass against -O0 on %s', (backend) => {
  for (const name of names) {
    it(`${name}: each prefix of the pass pipeline keeps loss, advantage and grad.logp`, async () => {
      const { tf } = await useBackend(backend);
      const p = stdlibPipeline(name);
      for (const seed of [1, 2]) {
        const b = pipelineBatch(p, { seed, reward: (r) => r() });
        const v = validateBatch(p.raw, b.entries, { set: b.set, grad: ['logp'], allowNonfinite: false, fileSpan: here });
        if (v.valid === null) throw new Error(v.diagnostics.map((d) => d.message).join('; '));
        const base = await evaluate(tf, backend, v.valid, ['logp']);
        const passes = runPipeline(v.valid.params);
        // Backends other than cpu run every prefix would take long: there, only the whole pipeline.
        const ks = backend === 'cpu' ? passes.map((_, k) => k + 1) : [passes.length];
        for (const k of ks) {
          const g = optimize(p.name, p.file, p.raw, passes.slice(0, k)).ir;
          const out = await evaluate(tf, backend, planOn(g, v.valid), ['logp']);
          compare(`${name} after ${passes[k - 1]!.name} (seed ${seed})`, out, base, TOL[backend]!);
        }
      }
    });
  }
});
