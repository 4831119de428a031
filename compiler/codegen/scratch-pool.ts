/**
 * Reusable float64 scratch arrays for the generated kernels' forward-saved gradients, shared by
 * every kernel and bounded: a run whose sequence length changes every step compiles a kernel per
 * length, and a pool per kernel would keep arrays for each of them for the life of the process.
 * Arrays are pooled by length, at most `PER_LENGTH` of a length and `MAX_BYTES` in all; what does
 * not fit is left to the garbage collector. A taken array holds stale values: its user writes
 * every element it reads.
 */

/** Pooled bytes at most (64 MiB). */
export const MAX_BYTES = 64 * 1024 * 1024;
/** Arrays of one length at most. */
const PER_LENGTH = 4;

const free = new Map<number, Float64Array[]>();
let pooledBytes = 0;

/** An array of `n` float64s (stale contents), from the pool when one is there. */
export function takeScratch(n: number): Float64Array {
  const list = free.get(n);
  const a = list?.pop();
  if (a === undefined) return new Float64Array(n);
  pooledBytes -= a.byteLength;
  return a;
}

/** Give an array back: pooled if it fits the bounds, else dropped. */
export function giveScratch(a: Float64Array): void {
  const list = free.get(a.length) ?? [];
  if (list.length >= PER_LENGTH || pooledBytes + a.byteLength > MAX_BYTES || list.includes(a)) return;
  list.push(a);
  free.set(a.length, list);
  pooledBytes += a.byteLength;
}

/** Bytes held by the pool now. */
export function scratchBytes(): number {
  return pooledBytes;
}
