/**
 * Standard library III written out by hand from the formulas (reference-losses.md, verl's and
 * TRL's documented behaviour), in plain float64 TS over flat arrays. Nothing here uses the
 * compiler. As in references.ts, `lp` is the log-prob vector to differentiate; values the method
 * holds constant (stop-gradient) are computed from `b.logp`.
 */
import { groupAdvantage, type RefBatch, type RefResult } from './references.js';

/** A batch with the extra inputs of this library: the sampler's log-probs and unpaired labels. */
export interface RefBatchIII extends RefBatch {
  readonly rollout_logp: Float64Array;
  readonly label: Float64Array;
}

export type ReferenceIII = (b: RefBatchIII, lp: Float64Array) => RefResult;

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const logSigmoid = (x: number): number => -(Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const meanOf = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
const sumOf = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0);

function len(b: RefBatch, s: number): number {
  let n = 0;
  for (let t = 0; t < b.T; t++) n += b.mask[s * b.T + t]!;
  return n;
}

function seqSum(b: RefBatch, x: ArrayLike<number>, s: number): number {
  let acc = 0;
  for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) acc += x[s * b.T + t]!;
  return acc;
}

/** -min(ratio A, clip(ratio, 1 - lo, 1 + hi) A). */
const clipped = (ratio: number, A: number, lo: number, hi: number): number => -Math.min(ratio * A, clamp(ratio, 1 - lo, 1 + hi) * A);

// ---- verl's agg_loss ------------------------------------------------------------------------------

/** verl's five loss_agg_mode values. */
export const AGG_MODES = ['token-mean', 'token-sum', 'seq-mean-token-sum', 'seq-mean-token-mean', 'seq-mean-token-sum-norm'] as const;
export type AggMode = (typeof AGG_MODES)[number];

/**
 * verl `core_algos.agg_loss(loss_mat, loss_mask, mode)` (newest): sequence means over non-empty
 * rows, token means within a row divided by L + 1e-8, seq-mean-token-sum-norm divided by
 * `loss_scale_factor` (the padded T unless given). Returns the value and the same aggregation of
 * |x| (the float32 rounding scale).
 */
export function verlAgg(b: RefBatch, x: (s: number, k: number) => number, mode: AggMode, scaleFactor = b.T): { loss: number; scale: number } {
  const rows = Array.from({ length: b.B * b.G }, (_, s) => {
    let sum = 0;
    let abs = 0;
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] === 0) continue;
      const v = x(s, k);
      sum += v;
      abs += Math.abs(v);
    }
    return { sum, abs, L: len(b, s) };
  });
  const tokens = sumOf(rows.map((r) => r.L));
  const nonEmpty = rows.filter((r) => r.L > 0);
  const seqs = nonEmpty.length;
  const pick = (f: (r: (typeof rows)[number]) => number): number => sumOf(nonEmpty.map(f));
  switch (mode) {
    case 'token-mean': return { loss: pick((r) => r.sum) / tokens, scale: pick((r) => r.abs) / tokens };
    case 'token-sum': return { loss: pick((r) => r.sum), scale: pick((r) => r.abs) };
    case 'seq-mean-token-sum': return { loss: pick((r) => r.sum) / seqs, scale: pick((r) => r.abs) / seqs };
    case 'seq-mean-token-mean': return { loss: pick((r) => r.sum / (r.L + 1e-8)) / seqs, scale: pick((r) => r.abs / (r.L + 1e-8)) / seqs };
    case 'seq-mean-token-sum-norm': return { loss: pick((r) => r.sum) / seqs / scaleFactor, scale: pick((r) => r.abs) / seqs / scaleFactor };
  }
}

/** GRPO's per-token loss with rlp's defaults: clip 0.2/0.2, beta 0.04 on unclamped k3. */
function grpoToken(b: RefBatch, lp: Float64Array, A: Float64Array, s: number, k: number, weight = 1): number {
  const d = b.ref_logp[k]! - lp[k]!;
  return weight * clipped(Math.exp(lp[k]! - b.old_logp[k]!), A[s]!, 0.2, 0.2) + 0.04 * (Math.exp(d) - d - 1);
}

/** GRPO aggregated by verl's `mode` (set `skip_empty_rows` on the pipeline: verl skips empty rows). */
export const grpoAgg = (mode: AggMode, horizon = 0): ReferenceIII => (b, lp) => {
  const A = groupAdvantage(b);
  return { ...verlAgg(b, (s, k) => grpoToken(b, lp, A, s, k), mode, horizon > 0 ? horizon : b.T), A };
};

// ---- mismatch correction ----------------------------------------------------------------------------

const logRatioRollout = (b: RefBatchIII, k: number): number => clamp(b.old_logp[k]! - b.rollout_logp[k]!, -20, 20);
const seqLogRatioRollout = (b: RefBatchIII, s: number): number => {
  let acc = 0;
  for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) acc += b.old_logp[s * b.T + t]! - b.rollout_logp[s * b.T + t]!;
  return clamp(acc, -20, 20);
};

/** A mismatch pipeline: GRPO whose policy term has the weight w(s, k); verl's seq-mean-token-mean. */
const weightedGrpo = (w: (b: RefBatchIII, s: number, k: number) => number): ReferenceIII => (b, lp) => {
  const A = groupAdvantage(b);
  return { ...verlAgg(b, (s, k) => grpoToken(b, lp, A, s, k, w(b, s, k)), 'seq-mean-token-mean'), A };
};

export const grpo_tis = (level: 'token' | 'sequence', cap = 2): ReferenceIII =>
  weightedGrpo((b, s, k) => Math.min(Math.exp(level === 'token' ? logRatioRollout(b, k) : seqLogRatioRollout(b, s)), cap));

export const grpo_icepop = (lo = 0.5, hi = 5): ReferenceIII =>
  weightedGrpo((b, _s, k) => {
    const w = Math.exp(logRatioRollout(b, k));
    return w >= lo && w <= hi ? w : 0;
  });

/** MIS with an optional verl rejection filter on k3 (`none`, `token_k3`, `seq_mean_k3`, `seq_max_k3`). */
export const grpo_mis = (reject: 'none' | 'token_k3' | 'seq_mean_k3' | 'seq_max_k3' = 'none', lo = 0, hi = 2, rsHi = 0.01): ReferenceIII =>
  weightedGrpo((b, s, k) => {
    const W = Math.exp(seqLogRatioRollout(b, s));
    const k3 = (kk: number): number => {
      const d = logRatioRollout(b, kk);
      return Math.exp(d) - 1 - d;
    };
    const stats: number[] = [];
    for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) stats.push(k3(s * b.T + t));
    const keep =
      reject === 'token_k3' ? k3(k) <= rsHi
      : reject === 'seq_mean_k3' ? meanOf(stats) <= rsHi
      : reject === 'seq_max_k3' ? Math.max(...stats) <= rsHi
      : true;
    return W >= lo && W <= hi && keep ? W : 0;
  });

/** The fraction of completion tokens whose weight is not the plain ratio (truncated or masked). */
export function fractionOff(b: RefBatchIII, off: (s: number, k: number) => boolean): number {
  let n = 0;
  let hit = 0;
  for (let s = 0; s < b.B * b.G; s++) {
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] === 0) continue;
      n++;
      if (off(s, k)) hit++;
    }
  }
  return hit / n;
}

export const tisTruncated = (b: RefBatchIII, cap = 2): number => fractionOff(b, (_s, k) => Math.exp(logRatioRollout(b, k)) > cap);
export const icepopMasked = (b: RefBatchIII, lo = 0.5, hi = 5): number => fractionOff(b, (_s, k) => {
  const w = Math.exp(logRatioRollout(b, k));
  return w < lo || w > hi;
});

// ---- verl estimators and losses -----------------------------------------------------------------------

/** OPO's length-weighted baseline; PPO clip, token-mean. */
export const opo: ReferenceIII = (b, lp) => {
  const A = new Float64Array(b.B * b.G);
  for (let i = 0; i < b.B; i++) {
    let num = 0;
    let den = 0;
    for (let g = 0; g < b.G; g++) {
      const s = i * b.G + g;
      num += len(b, s) * b.reward[s]!;
      den += len(b, s);
    }
    const base = b.G < 2 || den === 0 ? 0 : num / den;
    for (let g = 0; g < b.G; g++) A[i * b.G + g] = b.reward[i * b.G + g]! - base;
  }
  return { ...verlAgg(b, (s, k) => clipped(Math.exp(lp[k]! - b.old_logp[k]!), A[s]!, 0.2, 0.2), 'token-mean'), A };
};

/** verl's grpo_passk: top-2 gap for the group's best, over std + eps. */
export const grpo_passk: ReferenceIII = (b, lp) => {
  const A = new Float64Array(b.B * b.G);
  for (let i = 0; i < b.B; i++) {
    const r = Array.from(b.reward.subarray(i * b.G, (i + 1) * b.G));
    const sorted = [...r].sort((x, y) => y - x);
    const m = meanOf(r);
    const sd = Math.sqrt(r.reduce((a, v) => a + (v - m) ** 2, 0) / (b.G - 1));
    const best = r.indexOf(sorted[0]!);
    A[i * b.G + best] = (sorted[0]! - sorted[1]!) / (sd + 1e-6);
  }
  return { ...verlAgg(b, (s, k) => clipped(Math.exp(lp[k]! - b.old_logp[k]!), A[s]!, 0.2, 0.2), 'token-mean'), A };
};

/** verl's gpg: alpha = N / nonzero rewards, A = alpha (r - mean_G r), loss -A logp token-mean. */
export const gpg: ReferenceIII = (b, lp) => {
  const c = groupAdvantage(b, 0, false);
  const nonzero = Array.from(b.reward).filter((r) => r !== 0).length;
  const alpha = (b.B * b.G) / Math.max(nonzero, 1);
  const A = c.map((v) => alpha * v);
  return { ...verlAgg(b, (s, k) => -A[s]! * lp[k]!, 'token-mean'), A };
};

/** verl's sapo: soft gate, seq-mean-token-mean over non-empty rows. */
export const sapo: ReferenceIII = (b, lp) => {
  const A = groupAdvantage(b);
  return {
    ...verlAgg(b, (s, k) => {
      const ratio = Math.exp(clamp(lp[k]! - b.old_logp[k]!, -20, 20));
      const tau = A[s]! > 0 ? 1.0 : 1.05;
      return -(4 / tau) * sigmoid(tau * (ratio - 1)) * A[s]!;
    }, 'seq-mean-token-mean'),
    A,
  };
};

/** verl's geo_mean (GMPO): sign-aware clipped log-ratios, geometric mean, plain mean over rows. */
export const gmpo = (lo = 0.4, hi = 0.4): ReferenceIII => (b, lp) => {
  const A = groupAdvantage(b);
  const terms = Array.from({ length: b.B * b.G }, (_, s) => {
    const L = len(b, s);
    if (L === 0) return 0;
    const sg = Math.sign(A[s]!);
    let acc = 0;
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] === 0) continue;
      const d = lp[k]! - b.old_logp[k]!;
      acc += sg * Math.min(sg * d, sg * clamp(d, -lo, hi));
    }
    return -A[s]! * Math.exp(acc / (L + 1e-8)) * (L / (L + 1e-8));
  });
  return { loss: meanOf(terms), scale: meanOf(terms.map(Math.abs)), A };
};

/** verl's dppo_tv / dppo_kl: truncated detached IS weight, trust-region mask from b.logp (detached). */
export const dppo = (kind: 'tv' | 'kl', lo = 0.2, hi = 0.2, c = 3): ReferenceIII => (b, lp) => {
  const A = groupAdvantage(b);
  const valid = (s: number, k: number): boolean => {
    const p = Math.exp(b.logp[k]!);
    const q = Math.exp(b.old_logp[k]!);
    if (kind === 'tv') return A[s]! > 0 ? p - q <= hi : p - q >= -lo;
    const bkl = q * (b.old_logp[k]! - b.logp[k]!) + (1 - q) * Math.log((1 - q + 1e-8) / (1 - p + 1e-8));
    return A[s]! > 0 ? bkl <= hi || p <= q : bkl <= lo || p >= q;
  };
  return {
    ...verlAgg(b, (s, k) => {
      const w = Math.min(Math.exp(clamp(b.logp[k]! - b.old_logp[k]!, -20, 20)), c);
      return valid(s, k) ? -A[s]! * w * lp[k]! : 0;
    }, 'token-mean'),
    A,
  };
};

/** The fraction of completion tokens outside dppo's trust region (pg_clipfrac). */
export const dppoClipped = (b: RefBatch, kind: 'tv' | 'kl'): number => {
  const A = groupAdvantage(b);
  let n = 0;
  let out = 0;
  for (let s = 0; s < b.B * b.G; s++) {
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] === 0) continue;
      n++;
      const p = Math.exp(b.logp[k]!);
      const q = Math.exp(b.old_logp[k]!);
      const bkl = q * (b.old_logp[k]! - b.logp[k]!) + (1 - q) * Math.log((1 - q + 1e-8) / (1 - p + 1e-8));
      const ok = kind === 'tv' ? (A[s]! > 0 ? p - q <= 0.2 : p - q >= -0.2) : A[s]! > 0 ? bkl <= 0.2 || p <= q : bkl <= 0.2 || p >= q;
      if (!ok) out++;
    }
  }
  return out / n;
};

/** verl's dro: -(A logp - beta/2 (logp - old)^2), token-mean. */
export const dro = (beta = 0.1): ReferenceIII => (b, lp) => {
  const A = groupAdvantage(b);
  return { ...verlAgg(b, (s, k) => -(A[s]! * lp[k]! - 0.5 * beta * (lp[k]! - b.old_logp[k]!) ** 2), 'token-mean'), A };
};

// ---- preference ------------------------------------------------------------------------------------------

interface Pair { uc: number; ur: number; sc: number; sr: number; Lc: number; Lr: number }

function pairsOf(b: RefBatch, lp: Float64Array): Pair[] {
  return Array.from({ length: b.B }, (_, i) => {
    const c = 2 * i;
    const r = 2 * i + 1;
    const sc = seqSum(b, lp, c);
    const sr = seqSum(b, lp, r);
    return { uc: sc - seqSum(b, b.ref_logp, c), ur: sr - seqSum(b, b.ref_logp, r), sc, sr, Lc: len(b, c), Lr: len(b, r) };
  });
}

const result = (terms: readonly number[], extra = 0, extraAbs = 0): RefResult => ({ loss: meanOf(terms) + extra, scale: meanOf(terms.map(Math.abs)) + extraAbs });

/** Token-mean NLL of the chosen completions over the batch. */
function chosenNll(b: RefBatch, lp: Float64Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < b.B; i++) {
    s -= seqSum(b, lp, 2 * i);
    n += len(b, 2 * i);
  }
  return s / n;
}

/** KTO on pairs; z from the batch's own log-ratios (detached: from b.logp), clamped at 0. */
export const kto = (beta = 0.1, dw = 1, uw = 1): ReferenceIII => (b, lp) => {
  const held = pairsOf(b, b.logp);
  const z = Math.max(meanOf(held.flatMap((p) => [p.uc, p.ur])), 0);
  const terms = pairsOf(b, lp).flatMap((p) => [dw * (1 - sigmoid(beta * (p.uc - z))), uw * (1 - sigmoid(beta * (z - p.ur)))]);
  return result(terms);
};

/** KTO on unpaired completions with labels. */
export const kto_unpaired = (beta = 0.1): ReferenceIII => (b, lp) => {
  const N = b.B * b.G;
  const u = (x: Float64Array, s: number): number => seqSum(b, x, s) - seqSum(b, b.ref_logp, s);
  const z = Math.max(meanOf(Array.from({ length: N }, (_, s) => u(b.logp, s))), 0);
  const terms = Array.from({ length: N }, (_, s) => (b.label[s]! > 0.5 ? 1 - sigmoid(beta * (u(lp, s) - z)) : 1 - sigmoid(beta * (z - u(lp, s)))));
  return result(terms);
};

const avg = (sum: number, L: number): number => sum / Math.max(L, 1);

export const simpo = (beta = 2, gamma = 0.5): ReferenceIII => (b, lp) =>
  result(pairsOf(b, lp).map((p) => -logSigmoid(beta * (avg(p.sc, p.Lc) - avg(p.sr, p.Lr)) - gamma)));

export const cpo = (beta = 0.1, alpha = 1): ReferenceIII => (b, lp) => {
  const nll = chosenNll(b, lp);
  return result(pairsOf(b, lp).map((p) => -logSigmoid(beta * (p.sc - p.sr))), alpha * nll, Math.abs(alpha * nll));
};

export const alphapo = (alpha = 0.25, beta = 2, gamma = 0.5): ReferenceIII => (b, lp) => {
  const r = (sum: number, L: number): number => (1 - Math.exp(avg(sum, L)) ** -alpha) / alpha;
  return result(pairsOf(b, lp).map((p) => -logSigmoid(beta * (r(p.sc, p.Lc) - r(p.sr, p.Lr)) - gamma)));
};

export const orpo = (beta = 0.1): ReferenceIII => (b, lp) => {
  const logOdds = (a: number): number => a - Math.log(-Math.expm1(a));
  const ratios = pairsOf(b, lp).map((p) => logSigmoid(logOdds(avg(p.sc, p.Lc)) - logOdds(avg(p.sr, p.Lr))));
  const nll = chosenNll(b, lp);
  return { loss: nll - beta * meanOf(ratios), scale: Math.abs(nll) + beta * meanOf(ratios.map(Math.abs)) };
};

export const sigmoid_norm = (beta = 0.1): ReferenceIII => (b, lp) =>
  result(pairsOf(b, lp).map((p) => -logSigmoid(beta * (p.uc / Math.max(p.Lc, 1) - p.ur / Math.max(p.Lr, 1)))));

export type Divergence = 'reverse_kl' | 'forward_kl' | 'js_divergence' | 'alpha_divergence';
export const dpo_f = (div: Divergence, beta = 0.1, a = 0.5): ReferenceIII => (b, lp) => {
  const S = (u: number): number =>
    div === 'reverse_kl' ? u : div === 'forward_kl' ? -Math.exp(-u) : div === 'js_divergence' ? logSigmoid(u) : Math.exp(Math.min((a - 1) * u, 80)) / (a - 1);
  return result(pairsOf(b, lp).map((p) => -logSigmoid(beta * (S(p.uc) - S(p.ur)))));
};

export const mpo = (beta = 0.1, ws = 0.8, wb = 0.2, wsft = 1): ReferenceIII => (b, lp) => {
  const nll = chosenNll(b, lp);
  const terms = pairsOf(b, lp).map((p) => ws * -logSigmoid(beta * (p.uc - p.ur)) + wb * (-logSigmoid(beta * p.uc) - logSigmoid(-beta * p.ur)));
  return result(terms, wsft * nll, Math.abs(wsft * nll));
};

/** Online DPO: the pair ordered by reward (ties: the first is chosen). */
export const online_dpo = (kind: 'sigmoid' | 'ipo', beta = 0.1): ReferenceIII => (b, lp) =>
  result(pairsOf(b, lp).map((p, i) => {
    const firstWins = b.reward[2 * i]! >= b.reward[2 * i + 1]!;
    const delta = firstWins ? p.uc - p.ur : p.ur - p.uc;
    return kind === 'sigmoid' ? -logSigmoid(beta * delta) : (delta - 1 / (2 * beta)) ** 2;
  }));

// ---- TRL loss types -----------------------------------------------------------------------------------------

/** TRL's GRPO advantage: eps 1e-4 (groups here have at least two samples). */
const trlAdvantage = (b: RefBatch): Float64Array => groupAdvantage(b, 1e-4);

/** TRL luspo: GSPO's sequence ratio, the clipped loss times the length, mean over completions. */
export const luspo: ReferenceIII = (b, lp) => {
  const A = trlAdvantage(b);
  const terms = Array.from({ length: b.B * b.G }, (_, s) => {
    const L = len(b, s);
    const ratio = Math.exp((seqSum(b, lp, s) - seqSum(b, b.old_logp, s)) / Math.max(L, 1));
    return clipped(ratio, A[s]!, 0.2, 0.2) * L;
  });
  return { loss: meanOf(terms), scale: meanOf(terms.map(Math.abs)), A };
};

/** TRL vespo: phi(W) from the summed clamped log-ratio (held constant: from b.logp), token-mean of -phi A logp. */
export const vespo: ReferenceIII = (b, lp) => {
  const A = trlAdvantage(b);
  const phi = Array.from({ length: b.B * b.G }, (_, s) => {
    let acc = 0;
    for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) acc += clamp(b.logp[s * b.T + t]! - b.old_logp[s * b.T + t]!, -20, 20);
    const logW = clamp(acc, Math.log(1e-8), 20);
    const [k, lam] = A[s]! >= 0 ? [2, 3] : [3, 2];
    return Math.exp(lam + k * logW - lam * Math.exp(logW));
  });
  return { ...verlAgg(b, (s, k) => -phi[s]! * A[s]! * lp[k]!, 'token-mean'), A };
};

/** Every pipeline of standard library III that test/stdlib/stdlib-iii.test.ts checks against a reference here. */
export const III_TESTED: readonly string[] = Object.freeze([
  'gdpo', 'opo', 'grpo_passk', 'gpg', 'sapo', 'gmpo', 'dppo_tv', 'dppo_kl', 'dro', 'luspo', 'vespo', 'grpo_tis', 'grpo_icepop', 'grpo_mis',
  'kto', 'kto_unpaired', 'simpo', 'cpo', 'alphapo', 'orpo', 'sigmoid_norm', 'dpo_f', 'mpo', 'online_dpo',
]);

/**
 * verl's gdpo: per-component GRPO z-scores (Bessel std, eps 1e-6), weighted sum, masked_whiten over
 * the batch's completion tokens (unbiased variance, + 1e-8); PPO clip, token-mean.
 */
export const gdpo = (rewards: Float64Array, weights: readonly number[]): ReferenceIII => (b, lp) => {
  const K = weights.length;
  const combined = new Float64Array(b.B * b.G);
  for (let i = 0; i < b.B; i++) {
    for (let k = 0; k < K; k++) {
      const r = Array.from({ length: b.G }, (_, g) => rewards[(i * b.G + g) * K + k]!);
      const m = meanOf(r);
      const sd = Math.sqrt(r.reduce((a, v) => a + (v - m) ** 2, 0) / (b.G - 1));
      r.forEach((v, g) => (combined[i * b.G + g]! += weights[k]! * ((v - m) / (sd + 1e-6))));
    }
  }
  let n = 0;
  let mean = 0;
  for (let k = 0; k < b.mask.length; k++) if (b.mask[k] !== 0) {
    n++;
    mean += combined[Math.floor(k / b.T)]!;
  }
  mean /= n;
  let v = 0;
  for (let k = 0; k < b.mask.length; k++) if (b.mask[k] !== 0) v += (combined[Math.floor(k / b.T)]! - mean) ** 2;
  const sd = Math.sqrt(v / (n - 1) + 1e-8);
  const A = Float64Array.from(b.mask, (m, k) => (m === 0 ? 0 : (combined[Math.floor(k / b.T)]! - mean) / sd));
  return { ...verlAgg(b, (_s, k) => clipped(Math.exp(lp[k]! - b.old_logp[k]!), A[k]!, 0.2, 0.2), 'token-mean'), A };
};
