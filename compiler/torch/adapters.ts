/** Adapters: the exported stage functions wrapped for a trainer (verl, TRL). */
import type { IrGraph } from '../ir/graph.js';
import type { StageFn } from './emit-stage.js';

/** An adapter's source: guarded imports and the wrapping code. */
export interface Adapter {
  readonly imports?: string;
  readonly code: string;
}

/** The adapter for a trainer. */
export function adapterFor(target: 'verl' | 'trl', g: IrGraph, fns: readonly StageFn[]): Adapter {
  void g;
  void fns;
  return { code: `# ${target}` };
}
