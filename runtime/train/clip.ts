/**
 * TRL's clip-ratio metrics: the fraction of completion tokens whose importance ratio sits beyond
 * the PPO clip on the side where the clip cuts the gradient —
 *   low:    ratio < 1 - clip_low  and A < 0
 *   high:   ratio > 1 + clip_high and A > 0
 *   region: either
 * — averaged over completion tokens (mask). The ratio and A may be per token [B, G, T] or per
 * completion [B, G] (GSPO's sequence ratio, outcome advantages); a per-completion value counts
 * once for each of its tokens, as TRL broadcasts it.
 */

/** A value over the batch and the dims it has (a prefix of B, G, T). */
export interface Shaped {
  readonly values: ArrayLike<number>;
  readonly dims: readonly string[];
}

/** The clip-ratio metrics of one pass over a [B, G, R] batch. */
export function clipRatios(ratio: Shaped, A: Shaped, mask: ArrayLike<number>, R: number, clipLow: number, clipHigh: number): { low: number; high: number; region: number } {
  const at = (x: Shaped, i: number): number => (x.dims.includes('T') ? x.values[i]! : x.dims.includes('G') ? x.values[Math.floor(i / R)]! : x.values[0]!);
  let low = 0;
  let high = 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue;
    n++;
    const r = at(ratio, i);
    const a = at(A, i);
    if (r < 1 - clipLow && a < 0) low++;
    else if (r > 1 + clipHigh && a > 0) high++;
  }
  return n === 0 ? { low: 0, high: 0, region: 0 } : { low: low / n, high: high / n, region: (low + high) / n };
}
