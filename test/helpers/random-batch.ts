/** Random batches for the reference interpreter: seeded, with padded completions. */
import type { IrGraph } from '../../compiler/ir/graph.js';
import type { NamedArray } from '../../runtime/reference/named-array.js';
import { pipelineBatch, referenceInputs } from './pipeline-batch.js';

/** A small seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Feed every input and reward function a graph reads, with B x G x T sizes (a pipeline's own
 * dims at the batch helper's default): the shared pipeline-batch helper's batch, as NamedArrays.
 */
export function randomFeed(g: IrGraph, seed: number, B = 2, G = 4, T = 5): Record<string, NamedArray> {
  const b = pipelineBatch(g, { seed, B, G, T, reward: (r) => r() });
  return referenceInputs(g, b);
}
