/**
 * `rlp export --target torch`: for every standard pipeline (found at test time), the emitted plain
 * torch functions, run by Debian's torch, give `rlp eval`'s loss, advantage and gradient of the loss
 * in logp within 1e-4 relative (eval computes in float32), and in float64 rlp's float64 values (the
 * reference interpreter, central differences of it for the gradient) within 1e-5.
 */
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFiles, type CompiledPipeline } from '../../../compiler/compile.js';
import { OPS } from '../../../compiler/ops/index.js';
import { exportTorch, unfusedGraph } from '../../../compiler/torch/export.js';
import { HELPER_NAMES } from '../../../compiler/torch/prelude.js';
import type { EvalOutputs } from '../../../runtime/eval/evaluate.js';
import type { RefBatch } from '../../helpers/references.js';
import { firstMiss, makeBatch, runPipeline, type BatchSpec } from '../../helpers/stdlib-harness.js';
import { runTorchCases, torchAvailable, torchTestsRun, writeModule, type TorchCase, type TorchResult } from '../../helpers/torch.js';
import { extraFeeds, extraInputs, interpretFloat64, torchCase, type ExtraFeeds } from '../../helpers/torch-cases.js';

const files = readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).map((f) => `stdlib/${f}`);
const pipelines: readonly CompiledPipeline[] = compileFiles(files).pipelines;
/** Ops whose torch forms no standard pipeline runs outside a reward stage (rank, cos, sin), and group_mean and lgamma, with gradients. */
const opForms: readonly CompiledPipeline[] = compileFiles(['test/compiler/torch/op-forms.rlp']).pipelines;
/** Preference pipelines index `G` (chosen 0, rejected 1): their batches have G = 2. */
const isPreference = (p: CompiledPipeline): boolean => unfusedGraph(p).ordered().some((n) => n.op === 'take');

/** Pipelines that map rewards to [0, 1] with `r_min`, `r_max` (BNPO) take rewards in that range (outside it they are NaN). */
const rewardsIn01 = (p: CompiledPipeline): boolean => p.ir.meta.params.some((x) => x.name === 'r_min');

const SPECS = (p: CompiledPipeline): Record<string, BatchSpec> =>
  isPreference(p)
    ? { 'a batch with padding and an empty row': { B: 3, G: 2, T: 4, seed: 31, lengths: [4, 0, 2, 3, 1, 4] }, 'a random batch': { B: 4, G: 2, T: 5, seed: 32, spread: 2 } }
    : {
      'a batch with padding and an empty row': { B: 2, G: 4, T: 5, seed: 33, lengths: [3, 0, 5, 2, 1, 4, 2, 5], reward: (r) => r() },
      'a random batch': { B: 3, G: 4, T: 6, seed: 34, reward: (r) => (rewardsIn01(p) ? r() : 2 * r() - 1) },
    };

interface Planned { readonly p: CompiledPipeline; readonly label: string; readonly b: RefBatch; readonly x: ExtraFeeds; readonly dtype: 'float64' | 'float32'; readonly index: number }

describe('the PyTorch forms of ops', () => {
  it('exist for every op that has a TF.js lowering', () => {
    // `fused` regions (the fuse pass) export as their members: unfusedGraph.
    expect(OPS.filter((o) => o.lower !== undefined && o.torch === undefined && o.name !== 'fused').map((o) => o.name)).toEqual([]);
  });

  it('call only helpers the prelude defines, and every helper is used by some export', () => {
    const code = pipelines.map((p) => exportTorch(p).code).join('\n');
    for (const h of HELPER_NAMES.filter((n) => !['_amax', '_amin', '_shift', '_discounted_cumsum', '_rank', '_group_mean'].includes(n) || code.includes(`${n}(`))) {
      expect(code, h).toContain(`def ${h}(`);
    }
    // Below each module's docstring (a pipeline's doc may have a line starting "from ...").
    const below = pipelines.map((p) => exportTorch(p).code).map((c) => c.slice(c.indexOf('\n"""\n') + 5)).join('\n');
    expect(below).toMatch(/^import torch$/m);
    expect(below).not.toMatch(/^(?!import torch$)(import|from) /m);
  });
});

describe('every standard pipeline exported to torch', () => {
  it.runIf(process.env['CI'] === 'true')('has torch to run on, as CI requires (.ci/run installs python3-torch)', () => {
    expect(torchAvailable()).toBe(true);
  });

  it('covers the whole stdlib', () => {
    expect(pipelines.length).toBeGreaterThanOrEqual(25);
    for (const p of pipelines) expect(exportTorch(p).diagnostics.filter((d) => d.severity === 'error'), p.name).toEqual([]);
  });

  it('includes a pipeline that runs rank, cos, sin, group_mean and lgamma in the advantage and the loss', () => {
    const code = opForms.map((p) => exportTorch(p).code).join('\n');
    for (const form of ['_rank(seq, 1)', 'torch.cos(seq)', 'torch.sin(seq)', 'torch.lgamma(', '_group_mean(seq, key, 1)', '_rank(reward, 1)']) expect(code).toContain(form);
  });

  const planned: Planned[] = [];
  // A pipeline that reads no `logp` (mdpo_diffusion differentiates its per-step `step_logp`) has
  // no grad.logp to compare; its loss is checked against its reference in test/stdlib.
  const readsLogp = (p: CompiledPipeline): boolean => p.ir.ordered().some((n) => n.op === 'input' && n.attrs['name'] === 'logp');
  for (const p of [...pipelines, ...opForms].filter(readsLogp)) {
    for (const [label, spec] of Object.entries(SPECS(p))) {
      const b = makeBatch(spec);
      // Inputs a RefBatch does not carry (declared inputs, rollout_logp, variant...) from their types.
      const x = extraFeeds(unfusedGraph(p), b, spec.seed);
      for (const dtype of ['float64', 'float32'] as const) planned.push({ p, label, b, x, dtype, index: planned.length });
    }
  }
  let torch: TorchResult[] = [];
  const evals = new Map<string, EvalOutputs>();
  beforeAll(async () => {
    if (!torchTestsRun()) return;
    const modules = new Map([...pipelines, ...opForms].map((p) => [p.name, writeModule(p.name, exportTorch(p).code)]));
    const cases: TorchCase[] = planned.map((c) => torchCase(modules.get(c.p.name)!, exportTorch(c.p).functions, c.b, c.dtype, c.x));
    torch = runTorchCases(cases);
    for (const c of planned) if (!evals.has(`${c.p.name}/${c.label}`)) evals.set(`${c.p.name}/${c.label}`, await runPipeline(c.p, c.b, extraInputs(c.x)));
  }, 120_000);

  for (const c of planned) {
    const title = c.dtype === 'float64'
      ? `${c.p.name} on ${c.label} in float64 gives rlp eval's loss, advantage and grad.logp (1e-5) and rlp's float64 values`
      : `${c.p.name} on ${c.label} in float32 gives rlp eval's loss, advantage and grad.logp (1e-4)`;
    it.runIf(torchTestsRun())(title, () => {
      const got = torch[c.index]!;
      expect(got.error, 'python').toBeUndefined();
      const onTokens = (n: number): boolean => n === c.b.mask.length;
      const keep = (x: ArrayLike<number>): number[] => Array.from(x).filter((_, k) => !onTokens(x.length) || c.b.mask[k] !== 0);
      const e = evals.get(`${c.p.name}/${c.label}`)!;
      const tol = c.dtype === 'float64' ? 1e-5 : 1e-4;
      // In float64, rlp's float64 values (below, 1e-9) are the reference; eval computes in float32,
      // so it is compared at 1e-5 where it is itself within 1e-5 of them (BNPO's lgamma and the
      // mismatch filters' exp(20) are not, by up to 4.4e-5: eval's float32 rounding, not the export's).
      const ref = c.dtype === 'float64' ? interpretFloat64(unfusedGraph(c.p), c.b, c.x) : null;
      const evalExact = (want: ArrayLike<number>, exact: ArrayLike<number> | null, floor: number, slack: number): boolean =>
        ref === null || exact === null || firstMiss(want, exact, tol, floor, slack) === null;
      if (evalExact(e['loss']!.data, ref === null ? null : [ref.loss], 1e-2, tol * 1e-3)) {
        expect(firstMiss(got['loss']!, e['loss']!.data, tol, 1e-2, tol * 1e-3), 'loss').toBeNull();
      }
      if (e['advantage'] !== undefined && evalExact(keep(e['advantage'].data), ref?.advantage == null ? null : keep(ref.advantage), 1e-2, 0)) {
        expect(firstMiss(keep(got['advantage']!), keep(e['advantage'].data), tol), 'advantage').toBeNull();
      }
      // An infinite loss (orpo with an empty completion: log(1 - exp(0))) is matched above, and has no gradient to compare.
      const finite = Number.isFinite(e['loss']!.data[0]!);
      // Relative to the gradient's largest entry: eval's float32 rounding of entries that cancel
      // (apo_down: 1.6e-5 of a 1e-2-scale entry; chi2_ppo under eval's fused kernels: 1.6e-7 of a
      // 8.5e-2 one) is its own, not the export's (float64 is also checked against rlp's float64 below).
      if (finite) expect(firstMiss(got['grad.logp']!, e['grad.logp']!.data, tol, 1), 'grad.logp').toBeNull();
      if (ref === null || !finite) return;
      // rlp's own float64 semantics: the reference interpreter, and central differences of it
      // where no stop_gradient makes them differ from the gradient the pipeline defines.
      expect(firstMiss(got['loss']!, [ref.loss], 1e-9, 1e-2, 1e-12), 'loss vs the interpreter').toBeNull();
      if (ref.advantage !== null) expect(firstMiss(keep(got['advantage']!), keep(ref.advantage), 1e-9), 'advantage vs the interpreter').toBeNull();
      if (!unfusedGraph(c.p).ordered().some((n) => n.op === 'stop_gradient')) expect(firstMiss(got['grad.logp']!, ref.grad, 1e-5, 1e-2, 1e-9), 'grad.logp vs differences').toBeNull();
      c.b.mask.forEach((m, k) => m === 0 && expect(Math.abs(got['grad.logp']![k]!), `grad on padding [${k}]`).toBe(0));
    });
  }
});
