/** GRPO written out by hand in plain TS (no compiler): loss and d loss / d logp. */

export interface GrpoBatch {
  readonly B: number;
  readonly G: number;
  readonly T: number;
  readonly logp: number[];
  readonly old_logp: number[];
  readonly ref_logp: number[];
  readonly mask: number[];
  readonly reward: number[];
}

export interface GrpoParams {
  readonly eps: number;
  readonly clip_low: number;
  readonly clip_high: number;
  readonly beta: number;
}

export const GRPO_DEFAULTS: GrpoParams = { eps: 1e-6, clip_low: 0.2, clip_high: 0.2, beta: 0.04 };

/** Advantages (r - mean_G r) / (std_G r + eps), unbiased std. */
export function grpoAdvantages(b: GrpoBatch, p: GrpoParams = GRPO_DEFAULTS): number[] {
  const A: number[] = [];
  for (let i = 0; i < b.B; i++) {
    const r = b.reward.slice(i * b.G, (i + 1) * b.G);
    const m = r.reduce((x, y) => x + y, 0) / b.G;
    const sd = b.G > 1 ? Math.sqrt(r.reduce((x, y) => x + (y - m) ** 2, 0) / (b.G - 1)) : 0;
    for (const v of r) A.push((v - m) / (sd + p.eps));
  }
  return A;
}

/** The GRPO loss (seq-mean-token-mean of -clipped surrogate + beta k3) and its gradient in logp. */
export function grpoReference(b: GrpoBatch, p: GrpoParams = GRPO_DEFAULTS): { loss: number; grad: number[]; A: number[] } {
  const A = grpoAdvantages(b, p);
  const N = b.B * b.G;
  let loss = 0;
  const grad = new Array<number>(N * b.T).fill(0);
  for (let s = 0; s < N; s++) {
    let len = 0;
    for (let t = 0; t < b.T; t++) len += b.mask[s * b.T + t]!;
    let acc = 0;
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] === 0) continue;
      const ratio = Math.exp(b.logp[k]! - b.old_logp[k]!);
      const lo = 1 - p.clip_low;
      const hi = 1 + p.clip_high;
      const clipped = Math.min(hi, Math.max(lo, ratio));
      const s1 = ratio * A[s]!;
      const s2 = clipped * A[s]!;
      const d = b.ref_logp[k]! - b.logp[k]!;
      acc += -Math.min(s1, s2) + p.beta * (Math.exp(d) - d - 1);
      const dSurr = s1 <= s2 ? ratio * A[s]! : ratio > lo && ratio < hi ? ratio * A[s]! : 0;
      grad[k] = (-dSurr + p.beta * (1 - Math.exp(d))) / (len * N);
    }
    if (len > 0) loss += acc / len;
  }
  return { loss: loss / N, grad, A };
}
