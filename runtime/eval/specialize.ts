/**
 * The plan a batch evaluates: the pipeline lowered for the batch's param values (params become
 * constants, then the default passes), or unoptimized at `-O0`, computing every tensor result
 * from the batch's entries.
 */
import type { CompiledPipeline } from '../../compiler/compile.js';
import { lowerProgram, type CompiledProgram } from '../exec/program.js';
import type { ValidBatch } from './validate.js';

/** The program a validated batch runs: specialized to its params (or the checked IR when `optimized` is false). */
export function batchProgram(p: CompiledPipeline, vb: ValidBatch, optimized = true): CompiledProgram {
  return lowerProgram(p, { values: vb.params, level: optimized ? 'specialize' : 'O0', fed: vb.entries.map((e) => e.name) });
}

/** Re-plan a validated batch on its program: every tensor result, from the batch's entries. */
export function planBatch(program: CompiledProgram, vb: ValidBatch): ValidBatch {
  const want = program.outputs.filter((o) => o.dtype !== null).map((o) => o.name);
  return { ...vb, plan: program.plan(vb.entries.map((e) => e.name), want) };
}

/** Re-plan a validated batch on the IR specialized to its params (or the raw IR when `optimized` is false). */
export function specializeBatch(p: CompiledPipeline, vb: ValidBatch, optimized = true): ValidBatch {
  return planBatch(batchProgram(p, vb, optimized), vb);
}
