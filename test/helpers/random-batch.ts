/** Random batches for the reference interpreter: seeded, with padded completions. */
import type { IrGraph } from '../../compiler/ir/graph.js';
import { named, type NamedArray } from '../../runtime/reference/named-array.js';

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

/** Feed every input and reward function a graph reads, with B x G x T sizes. */
export function randomFeed(g: IrGraph, seed: number, B = 2, G = 4, T = 5): Record<string, NamedArray> {
  const r = rng(seed);
  const lengths = Array.from({ length: B * G }, () => 1 + Math.floor(r() * T));
  const feed: Record<string, NamedArray> = {};
  const token = (f: () => number): NamedArray =>
    named(['B', 'G', 'T'], [B, G, T], Array.from({ length: B * G * T }, (_, i) => ((i % T) < lengths[Math.floor(i / T)]! ? f() : 1000 + r())));
  for (const n of g.ordered()) {
    if (n.op !== 'input' && n.op !== 'reward_fn') continue;
    const name = String(n.attrs['name']);
    const key = n.op === 'input' ? name : `reward_fn.${name}`;
    if (name === 'mask') feed[key] = named(['B', 'G', 'T'], [B, G, T], Array.from({ length: B * G * T }, (_, i) => ((i % T) < lengths[Math.floor(i / T)]! ? 1 : 0)));
    else if (name === 'step') feed[key] = named([], [], [3]);
    else if (n.type.kind === 'tensor' && n.type.dims.join(',') === 'B,G,T') feed[key] = token(() => -3 * r());
    else if (n.type.kind === 'tensor' && n.type.dims.includes('T')) {
      // A token value with a further dim (mdpo_diffusion's [B,G,T,S]): log-prob-like everywhere.
      const shape = n.type.dims.map((d) => ({ B, G, T }[d] ?? 3));
      feed[key] = named(n.type.dims, shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => -3 * r()));
    }
    else if (n.type.kind === 'tensor') {
      const dims = n.type.dims;
      const shape = dims.map((d) => ({ B, G, T }[d] ?? 3));
      feed[key] = named(dims, shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.round(r() * 4) / 4));
    }
  }
  return feed;
}
