/**
 * The plan a run evaluates: the pipeline's IR optimized for the run's param values (params
 * become constants, then the default passes), or the unoptimized IR at `-O0`.
 */
import { optimize, type CompiledPipeline } from '../../compiler/compile.js';
import { runPipeline } from '../../compiler/passes/index.js';
import { policyDependent } from '../../compiler/passes/fuse.js';
import { buildPlan, feedableNames } from '../exec/plan.js';
import type { ValidBatch } from './validate.js';

/** Re-plan a validated batch on the IR specialized to its params (or the raw IR when `optimized` is false). */
export function specializeBatch(p: CompiledPipeline, vb: ValidBatch, optimized = true): ValidBatch {
  // A fed binding that depends on the policy may be absorbed by a fused region (which would
  // recompute it instead of reading the fed value): then run every pass but `fuse`.
  const policy = policyDependent(p.raw);
  const feedsPolicyBinding = vb.entries.some((e) => {
    const id = feedableNames(p.raw).get(e.name);
    return id !== undefined && p.raw.node(id).op !== 'input' && policy.has(id);
  });
  const passes = runPipeline(vb.params).filter((x) => !(feedsPolicyBinding && x.name === 'fuse'));
  const g = optimized ? optimize(p.name, p.file, p.raw, passes).ir : p.raw;
  const want = g.outputs.filter((o) => g.node(o.node).type.kind === 'tensor').map((o) => o.name);
  return { ...vb, plan: buildPlan(g, vb.entries.map((e) => e.name), want) };
}
