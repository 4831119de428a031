/**
 * More of standard library III written out by hand from the formulas (verl's `core_algos.py`,
 * TRL's trainers, as documented in each pipeline), plain float64 TS over flat arrays, without the
 * compiler: otb, clip_cov, kl_cov, trl_grpo's options, trl_grpo_multi's two orders, bco, wpo,
 * xpo, nash_md. Values the methods hold constant (selections, detached weights) come from `b.logp`.
 */
import { groupAdvantage, type RefBatch, type RefResult } from './references.js';
import { verlAgg, type AggMode, type RefBatchIII } from './references-iii.js';

/** The extra inputs these methods read. */
export interface RefBatchMore extends RefBatchIII {
  /** sum_v pi_v^2 per token, in (0, 1]. */
  readonly sum_pi_squared: Float64Array;
  /** Uniform numbers per token (Clip-Cov's random choice). */
  readonly uniform: Float64Array;
  /** 1 where a completion was cut at its limit. */
  readonly truncated: Float64Array;
  /** Per-token entropy of the policy. */
  readonly entropy: Float64Array;
}

export type ReferenceMore = (b: RefBatchMore, lp: Float64Array) => RefResult;

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const logSigmoid = (x: number): number => -(Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const meanOf = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
/** Unbiased std; 0 for fewer than two values. */
const stdOf = (xs: readonly number[]): number => {
  if (xs.length < 2) return 0;
  const m = meanOf(xs);
  return Math.sqrt(xs.reduce((a, v) => a + (v - m) ** 2, 0) / (xs.length - 1));
};
const len = (b: RefBatch, s: number): number => {
  let n = 0;
  for (let t = 0; t < b.T; t++) n += b.mask[s * b.T + t]!;
  return n;
};
const seqSum = (b: RefBatch, x: ArrayLike<number>, s: number): number => {
  let acc = 0;
  for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) acc += x[s * b.T + t]!;
  return acc;
};
const clipped = (ratio: number, A: number, lo: number, hi: number): number => -Math.min(ratio * A, clamp(ratio, 1 - lo, 1 + hi) * A);
const tokens = (b: RefBatch): number[] => Array.from(b.mask.keys()).filter((k) => b.mask[k] !== 0);

// ---- OTB ------------------------------------------------------------------------------------------------

/** verl's optimal token baseline (outcome reward on every completion token), PPO clip 0.2, token-mean. */
export const otb = (zeroTail = true, eps = 1e-8): ReferenceMore => (b, lp) => {
  const W = new Float64Array(b.mask.length);
  for (let s = 0; s < b.B * b.G; s++) {
    let acc = 0;
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] === 0) continue;
      acc += 1 - 2 * Math.exp(Math.min(b.old_logp[k]!, 0)) + b.sum_pi_squared[k]!;
      W[k] = acc;
    }
  }
  const A = new Float64Array(b.mask.length);
  for (let i = 0; i < b.B; i++) {
    const rows = Array.from({ length: b.G }, (_, g) => i * b.G + g);
    const lengths = rows.map((s) => len(b, s));
    const sorted = [...lengths].sort((x, y) => x - y);
    const longest = lengths.indexOf(sorted[b.G - 1]!);
    const unique = b.G >= 2 && lengths.filter((L) => L === sorted[b.G - 1]).length === 1 && sorted[b.G - 1]! > sorted[b.G - 2]!;
    for (let t = 0; t < b.T; t++) {
      let num = 0;
      let den = 0;
      for (const s of rows) {
        const k = s * b.T + t;
        if (b.mask[k] === 0) continue;
        num += b.reward[s]! * W[k]!;
        den += W[k]!;
      }
      for (const [g, s] of rows.entries()) {
        const k = s * b.T + t;
        if (b.mask[k] === 0) continue;
        const zero = b.G < 2 || (zeroTail && unique && g === longest && t >= sorted[b.G - 2]!);
        A[k] = b.reward[s]! - (zero ? 0 : num / (den + eps));
      }
    }
  }
  return { ...verlAgg(b, (_s, k) => clipped(Math.exp(lp[k]! - b.old_logp[k]!), A[k]!, 0.2, 0.2), 'token-mean'), A };
};

// ---- covariance selection -------------------------------------------------------------------------------

/** (A - mean A)(logp - mean logp) over the completion tokens, from the held b.logp. */
function tokenCov(b: RefBatch, A: Float64Array): Float64Array {
  const ks = tokens(b);
  const mA = meanOf(ks.map((k) => A[Math.floor(k / b.T)]!));
  const mL = meanOf(ks.map((k) => b.logp[k]!));
  return Float64Array.from(b.mask, (m, k) => (m === 0 ? 0 : (A[Math.floor(k / b.T)]! - mA) * (b.logp[k]! - mL)));
}

/** How many of the keys in `pool` have a value strictly larger than the value at k. */
const rankDesc = (v: ArrayLike<number>, pool: readonly number[], k: number): number => pool.filter((j) => v[j]! > v[k]!).length;

/** verl's clip_cov, the random choice by the largest `uniform` draws among the candidates. */
export const clip_cov = (ratioCut = 0.0002, lb = 1, ub = 5, lo = 0.2, hi = 0.2): ReferenceMore => (b, lp) => {
  const A = groupAdvantage(b, 1e-6);
  const cov = tokenCov(b, A);
  const ks = tokens(b);
  const held = (k: number): boolean => {
    const ratio = Math.exp(b.logp[k]! - b.old_logp[k]!);
    const a = A[Math.floor(k / b.T)]!;
    return -a * clamp(ratio, 1 - lo, 1 + hi) <= -a * ratio;
  };
  const cand = ks.filter((k) => held(k) && cov[k]! > lb && cov[k]! < ub);
  const n = Math.max(ratioCut * ks.length, 1);
  const cut = new Set(cand.filter((k) => rankDesc(b.uniform, cand, k) + 1 <= n));
  const r = verlAgg(b, (s, k) => {
    const ratio = Math.exp(lp[k]! - b.old_logp[k]!);
    const v = Math.max(-A[s]! * ratio, -A[s]! * clamp(ratio, 1 - lo, 1 + hi));
    return cut.has(k) ? 0 : v;
  }, 'token-mean');
  return { ...r, A, selected: cut.size / ks.length } as RefResult;
};

/** verl's kl_cov, ties at the k-th covariance all selected. */
export const kl_cov = (ratioSel = 0.0002, coef = 1): ReferenceMore => (b, lp) => {
  const A = groupAdvantage(b, 1e-6);
  const cov = tokenCov(b, A);
  const ks = tokens(b);
  const k = Math.max(ratioSel * ks.length, 1);
  const sel = new Set(ratioSel > 0 ? ks.filter((j) => rankDesc(cov, ks, j) + 1 <= k) : []);
  const r = verlAgg(b, (s, j) => {
    const d = lp[j]! - b.old_logp[j]!;
    return -A[s]! * Math.exp(d) + (sel.has(j) ? coef * Math.abs(d) : 0);
  }, 'token-mean');
  return { ...r, A, selected: sel.size / ks.length } as RefResult;
};

// ---- TRL GRPO options -----------------------------------------------------------------------------------

export interface TrlOptions {
  readonly beta?: number;
  readonly delta?: number;
  readonly scale?: 'group' | 'batch' | 'none';
  readonly kl?: 'k3' | 'k3+' | 'k1' | 'low_var_kl';
  readonly biasCorrection?: boolean;
  readonly klInReward?: boolean;
  readonly rho?: number;
  readonly maskTruncated?: boolean;
  readonly agg?: AggMode;
  /** trl_grpo_multi: per-function rewards [B*G*F] and weights, and the order. */
  readonly multi?: { rewards: Float64Array; weights: readonly number[]; order: 'sum_then_normalize' | 'normalize_then_sum' };
}

/** KL of pi against ref per token by name; `k3+`'s value is verl's clamped k3 (its gradient k2's: see below). */
function klValue(kind: NonNullable<TrlOptions['kl']>, lp: number, ref: number): number {
  if (kind === 'k1') return lp - ref;
  const d = ref - lp;
  if (kind === 'k3') return Math.exp(d) - d - 1;
  const dc = clamp(d, -20, 20);
  return clamp(Math.exp(dc) - dc - 1, -10, 10);
}

/** TRL's GRPO advantage under `o` (group of one: 0). */
export function trlAdvantage(b: RefBatchMore, o: TrlOptions): Float64Array {
  const beta = o.beta ?? 0;
  const N = b.B * b.G;
  const klR = Array.from({ length: N }, (_, s) => {
    let acc = 0;
    for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) acc += klValue(o.kl ?? 'k3', b.old_logp[s * b.T + t]!, b.ref_logp[s * b.T + t]!);
    return o.klInReward === true ? beta * acc : 0;
  });
  const F = o.multi?.weights.length ?? 0;
  const rf = (s: number, f: number): number => o.multi!.rewards[s * F + f]!;
  const summed = Array.from({ length: N }, (_, s) => (o.multi === undefined ? b.reward[s]! : o.multi.weights.reduce((a, w, f) => a + w * rf(s, f), 0)));
  if (o.multi?.order === 'normalize_then_sum') {
    const sv = Array.from({ length: N }, (_, s) => {
      const i = Math.floor(s / b.G);
      let acc = 0;
      for (let f = 0; f < F; f++) {
        const col = Array.from({ length: b.G }, (_, g) => rf(i * b.G + g, f));
        acc += o.multi!.weights[f]! * (b.G < 2 ? 0 : (rf(s, f) - meanOf(col)) / (stdOf(col) + 1e-4));
      }
      return acc - klR[s]!;
    });
    const m = meanOf(sv);
    const sd = stdOf(sv);
    return Float64Array.from(sv, (v) => (v - m) / (sd + 1e-4));
  }
  const r = summed.map((v, s) => v - klR[s]!);
  const batchSd = stdOf(r);
  return Float64Array.from(r, (v, s) => {
    const i = Math.floor(s / b.G);
    const grp = r.slice(i * b.G, (i + 1) * b.G);
    const c = v - meanOf(grp);
    if ((o.scale ?? 'group') === 'none') return c;
    return c / ((o.scale === 'batch' ? batchSd : stdOf(grp)) + 1e-4);
  });
}

/**
 * trl_grpo under `o`. The `k3+` gradient is k2's: its value here is k2(lp) - k2(held) + value(held),
 * which equals the value at the held point and has k2's derivative.
 */
export const trl_grpo = (o: TrlOptions = {}): ReferenceMore => (b, lp) => {
  const A = trlAdvantage(b, o);
  const beta = o.beta ?? 0;
  const keepRow = (s: number): number => (o.maskTruncated === true && b.truncated[s]! > 0.5 ? 0 : 1);
  const kept = tokens(b).filter((k) => keepRow(Math.floor(k / b.T)) === 1);
  const rho = o.rho ?? 1;
  const high = new Set(kept.filter((k) => rankDesc(b.entropy, kept, k) <= rho * (kept.length - 1)));
  const k2 = (x: number, ref: number): number => 0.5 * (x - ref) ** 2;
  const terms = (s: number, k: number): number => {
    if (keepRow(s) === 0) return 0;
    const ratio = Math.exp(lp[k]! - b.old_logp[k]!);
    const c = (o.delta ?? 0) > 0 ? Math.min(ratio, o.delta!) : ratio;
    const pg = -Math.min(c * A[s]!, clamp(ratio, 0.8, 1.2) * A[s]!) * (high.has(k) ? 1 : 0);
    const kind = o.kl ?? 'k3';
    const ref = b.ref_logp[k]!;
    let kl = kind === 'k3+' ? k2(lp[k]!, ref) - k2(b.logp[k]!, ref) + klValue('low_var_kl', b.logp[k]!, ref) : klValue(kind, lp[k]!, ref);
    if (o.biasCorrection === true) kl *= ratio;
    return pg + (o.klInReward === true ? 0 : beta) * kl;
  };
  const mode = o.agg ?? 'seq-mean-token-mean';
  // TRL's denominators: every completion counts (grpo), the kept tokens (dapo / token-mean).
  const rows = Array.from({ length: b.B * b.G }, (_, s) => {
    let sum = 0;
    let abs = 0;
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] === 0) continue;
      const v = terms(s, k);
      sum += v;
      abs += Math.abs(v);
    }
    return { sum, abs, L: len(b, s) };
  });
  if (mode === 'token-mean') {
    return { loss: rows.reduce((a, r) => a + r.sum, 0) / kept.length, scale: rows.reduce((a, r) => a + r.abs, 0) / kept.length, A };
  }
  const per = rows.map((r) => (r.L === 0 ? 0 : r.sum / r.L));
  return { loss: meanOf(per), scale: meanOf(rows.map((r) => (r.L === 0 ? 0 : r.abs / r.L))), A };
};

/** The fraction of kept completion tokens below the entropy quantile (trl_grpo's frac_low_entropy). */
export function lowEntropyFraction(b: RefBatchMore, rho: number): number {
  const kept = tokens(b);
  return kept.filter((k) => !(rankDesc(b.entropy, kept, k) <= rho * (kept.length - 1))).length / kept.length;
}

// ---- preference -----------------------------------------------------------------------------------------

interface Pair { uc: number; ur: number; sc: number; sr: number }
function pairsOf(b: RefBatch, lp: Float64Array): Pair[] {
  return Array.from({ length: b.B }, (_, i) => {
    const sc = seqSum(b, lp, 2 * i);
    const sr = seqSum(b, lp, 2 * i + 1);
    return { uc: sc - seqSum(b, b.ref_logp, 2 * i), ur: sr - seqSum(b, b.ref_logp, 2 * i + 1), sc, sr };
  });
}
const result = (terms: readonly number[]): RefResult => ({ loss: meanOf(terms), scale: meanOf(terms.map(Math.abs)) });

/** TRL BCO on pairs, with the running mean `mu` over `n` earlier batches (state). Returns the new mean too. */
export const bco = (beta = 0.1, n = 0, mu = 0): ReferenceMore => (b, lp) => {
  const held = pairsOf(b, b.logp);
  const batchMean = meanOf(held.flatMap((p) => [beta * p.uc, beta * p.ur]));
  const delta = mu + (batchMean - mu) / (n + 1);
  const terms = pairsOf(b, lp).flatMap((p) => [-logSigmoid(beta * p.uc - delta), -logSigmoid(-(beta * p.ur - delta))]);
  return { ...result(terms), delta } as RefResult;
};

/** TRL DPO with use_weighting (WPO): weight min(exp(w_c + w_r), 1) from the held logp. */
export const wpo = (beta = 0.1): ReferenceMore => (b, lp) => {
  const w = (s: number): number => {
    let acc = 0;
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] !== 0) acc += b.logp[k]! - Math.log(b.sum_pi_squared[k]!);
    }
    return acc / Math.max(len(b, s), 1);
  };
  return result(pairsOf(b, lp).map((p, i) => Math.min(Math.exp(w(2 * i) + w(2 * i + 1)), 1) * -logSigmoid(beta * (p.uc - p.ur))));
};

/** TRL XPO: online DPO on the reward-ordered pair plus alpha x the summed logp of completion 1. */
export const xpo = (kind: 'sigmoid' | 'ipo', beta = 0.1, alpha = 1e-5): ReferenceMore => (b, lp) =>
  result(pairsOf(b, lp).map((p, i) => {
    const firstWins = b.reward[2 * i]! >= b.reward[2 * i + 1]!;
    const delta = firstWins ? p.uc - p.ur : p.ur - p.uc;
    const dpo = kind === 'sigmoid' ? -logSigmoid(beta * delta) : (delta - 1 / (2 * beta)) ** 2;
    return dpo + alpha * p.sr;
  }));

/** TRL Nash-MD with a reward model: REINFORCE on completion 0 with p = sigmoid(r0 - r1), KL by REINFORCE (held log-ratios). */
export const nash_md = (beta = 0.1): ReferenceMore => (b, lp) =>
  result(Array.from({ length: b.B }, (_, i) => {
    const s = 2 * i;
    const p = sigmoid(b.reward[s]! - b.reward[s + 1]!);
    let kl = 0;
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] !== 0) kl += (b.logp[k]! - b.ref_logp[k]!) * lp[k]!;
    }
    return beta * kl - (p - 0.5) * seqSum(b, lp, s);
  }));

/** Every pipeline that test/stdlib/stdlib-iii-more.test.ts checks against a reference here. */
export const III_MORE_TESTED: readonly string[] = Object.freeze(['otb', 'clip_cov', 'kl_cov', 'trl_grpo', 'trl_grpo_multi', 'bco', 'wpo', 'xpo', 'nash_md']);
