/**
 * The cache of compiled fused kernels (JS on the host backends, WGSL on webgpu), keyed by the
 * body, every dim size and which gradients may be asked. Bounded, least recently used first out:
 * a run whose completion length changes every step compiles one kernel per length.
 */
export class KernelCache<K> {
  private readonly entries = new Map<string, K>();

  constructor(private readonly capacity = 256) {}

  /** The kernel of a body at these sizes, compiled by `make` on a miss. */
  get(bodyText: string, sizes: ReadonlyMap<string, number>, needsGrad: readonly boolean[] | undefined, make: () => K): K {
    const key = `${bodyText}|${[...sizes].sort(([a], [b]) => a.localeCompare(b)).map(([d, s]) => `${d}=${s}`).join(',')}|${needsGrad?.map(Number).join('') ?? ''}`;
    let k = this.entries.get(key);
    if (k !== undefined) {
      // Most recently used last (a Map keeps insertion order).
      this.entries.delete(key);
    } else {
      k = make();
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(key, k);
    return k;
  }

  /** Kernels held now. */
  get size(): number {
    return this.entries.size;
  }
}
