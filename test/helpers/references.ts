/**
 * The standard library's methods written out by hand from their formulas (methods.md,
 * reference-losses.md), in plain float64 TS over flat arrays. Nothing here uses the compiler.
 * Each reference takes the batch and `lp`, the log-probs to differentiate; values that the
 * method holds constant (stop-gradient) are computed from `b.logp`.
 */

/** A batch in the [B,G,T] layout, flat and row-major. */
export interface RefBatch {
  readonly B: number;
  readonly G: number;
  readonly T: number;
  readonly logp: Float64Array;
  readonly old_logp: Float64Array;
  readonly ref_logp: Float64Array;
  readonly mask: Float64Array;
  readonly reward: Float64Array;
  readonly greedy_reward: Float64Array;
  readonly token_reward: Float64Array;
  readonly old_values: Float64Array;
  readonly values: Float64Array;
  /** SPO's Monte-Carlo values before and after each token's segment. */
  readonly value_start: Float64Array;
  readonly value_end: Float64Array;
}

export interface RefResult {
  readonly loss: number;
  /**
   * The same aggregation of the terms' absolute values: the scale float32 rounding works at.
   * A loss whose terms cancel (advantages sum to zero in a group) is compared relative to it.
   */
  readonly scale: number;
  /** The advantage stage's result: one per completion, or one per token. */
  readonly A?: Float64Array;
  /**
   * The scale float32 rounding works at for A, when it is larger than A itself: whitening
   * divides a difference of nearby values by a small std, |x| / std.
   */
  readonly AScale?: number;
}

export type Reference = (b: RefBatch, lp: Float64Array) => RefResult;

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const logSigmoid = (x: number): number => -(Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

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

/** (r - mean_G r) / (std_G r + eps), unbiased std; 0 for a group of one. */
export function groupAdvantage(b: RefBatch, eps = 1e-6, divide = true): Float64Array {
  const A = new Float64Array(b.B * b.G);
  for (let i = 0; i < b.B; i++) {
    const r = Array.from(b.reward.subarray(i * b.G, (i + 1) * b.G));
    const m = r.reduce((x, y) => x + y, 0) / b.G;
    const sd = b.G > 1 ? Math.sqrt(r.reduce((x, y) => x + (y - m) ** 2, 0) / (b.G - 1)) : 0;
    r.forEach((v, g) => (A[i * b.G + g] = divide ? (v - m) / (sd + eps) : v - m));
  }
  return A;
}

/** -min(ratio A, clip(ratio, 1 - lo, 1 + hi) A). */
function clippedLoss(ratio: number, A: number, lo: number, hi: number): number {
  return -Math.min(ratio * A, clamp(ratio, 1 - lo, 1 + hi) * A);
}

/** Sum over every completion token of f(s, k), and the number of those tokens. */
function tokenSum(b: RefBatch, f: (s: number, k: number) => number): { sum: number; abs: number; tokens: number } {
  let sum = 0;
  let abs = 0;
  let tokens = 0;
  for (let s = 0; s < b.B * b.G; s++) {
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] === 0) continue;
      const v = f(s, k);
      sum += v;
      abs += Math.abs(v);
      tokens += b.mask[k]!;
    }
  }
  return { sum, abs, tokens };
}

export const grpo: Reference = (b, lp) => {
  const A = groupAdvantage(b);
  const N = b.B * b.G;
  let loss = 0;
  let scale = 0;
  for (let s = 0; s < N; s++) {
    const L = len(b, s);
    if (L === 0) continue;
    let acc = 0;
    let abs = 0;
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] === 0) continue;
      const d = b.ref_logp[k]! - lp[k]!;
      const v = clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), A[s]!, 0.2, 0.2) + 0.04 * (Math.exp(d) - d - 1);
      acc += v;
      abs += Math.abs(v);
    }
    loss += acc / L;
    scale += abs / L;
  }
  return { loss: loss / N, scale: scale / N, A };
};

export const dr_grpo: Reference = (b, lp) => {
  const A = groupAdvantage(b, 0, false);
  const { sum, abs } = tokenSum(b, (s, k) => {
    const d = b.ref_logp[k]! - lp[k]!;
    return clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), A[s]!, 0.2, 0.2) + 0.04 * (Math.exp(d) - d - 1);
  });
  const norm = b.B * b.G * 64; // completions x max_tokens (its default)
  return { loss: sum / norm, scale: abs / norm, A };
};

/** GHPO: GRPO's advantage with TRL's eps 1e-4, token-mean PPO-clip over the batch, no KL. */
export const ghpo: Reference = (b, lp) => {
  const A = groupAdvantage(b, 1e-4);
  const { sum, abs, tokens } = tokenSum(b, (s, k) => clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), A[s]!, 0.2, 0.2));
  return { loss: sum / tokens, scale: abs / tokens, A };
};

export const dapo: Reference = (b, lp) => {
  const A = groupAdvantage(b);
  const { sum, abs, tokens } = tokenSum(b, (s, k) => clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), A[s]!, 0.2, 0.28));
  return { loss: sum / tokens, scale: abs / tokens, A };
};

export const gspo: Reference = (b, lp) => {
  const A = groupAdvantage(b);
  const N = b.B * b.G;
  const terms = Array.from({ length: N }, (_, s) => {
    const L = len(b, s);
    if (L === 0) return 0;
    return clippedLoss(Math.exp((seqSum(b, lp, s) - seqSum(b, b.old_logp, s)) / L), A[s]!, 3e-4, 4e-4);
  });
  return { loss: meanOf(terms), scale: meanOf(terms.map(Math.abs)), A };
};

export const cispo: Reference = (b, lp) => {
  const A = groupAdvantage(b);
  // The IS weight is a constant: computed from the batch's logp, not from the varied lp.
  const { sum, abs, tokens } = tokenSum(b, (s, k) => -clamp(Math.exp(b.logp[k]! - b.old_logp[k]!), 0, 5) * A[s]! * lp[k]!);
  return { loss: sum / tokens, scale: abs / tokens, A };
};

export const rloo: Reference = (b, lp) => {
  const c = groupAdvantage(b, 0, false);
  const A = b.G > 1 ? c.map((v) => (b.G / (b.G - 1)) * v) : c.map(() => 0);
  const terms = Array.from({ length: b.B * b.G }, (_, s) => clippedLoss(Math.exp(seqSum(b, lp, s) - seqSum(b, b.old_logp, s)), A[s]!, 0.2, 0.2));
  return { loss: meanOf(terms), scale: meanOf(terms.map(Math.abs)), A };
};

export const remax: Reference = (b, lp) => {
  const A = b.reward.map((r, s) => r - b.greedy_reward[Math.floor(s / b.G)]!);
  const { sum, abs, tokens } = tokenSum(b, (s, k) => clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), A[s]!, 0.2, 0.2));
  return { loss: sum / tokens, scale: abs / tokens, A };
};

// ---- preference losses (G = 2: index 0 chosen, 1 rejected) ---------------------------------------

interface Pair {
  readonly uc: number;
  readonly ur: number;
  readonly pic: number;
  readonly pir: number;
  readonly refc: number;
  readonly refr: number;
  readonly Lc: number;
  readonly Lr: number;
}

function pairs(b: RefBatch, lp: Float64Array): Pair[] {
  return Array.from({ length: b.B }, (_, i) => {
    const c = i * 2;
    const r = i * 2 + 1;
    const pic = seqSum(b, lp, c);
    const pir = seqSum(b, lp, r);
    const refc = seqSum(b, b.ref_logp, c);
    const refr = seqSum(b, b.ref_logp, r);
    return { uc: pic - refc, ur: pir - refr, pic, pir, refc, refr, Lc: len(b, c), Lr: len(b, r) };
  });
}

const meanOf = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
const BETA = 0.1;
const sigmoidLoss = (z: number, ls: number): number => -(1 - ls) * logSigmoid(z) - ls * logSigmoid(-z);
const perPair = (f: (p: Pair) => number): Reference => (b, lp) => {
  const terms = pairs(b, lp).map(f);
  return { loss: meanOf(terms), scale: meanOf(terms.map(Math.abs)) };
};
const sortedUp = (xs: number[]): number[] => [...xs].sort((x, y) => x - y);

function aotLoss(xs: number[], ys: number[]): RefResult {
  const a = sortedUp(xs);
  const c = sortedUp(ys);
  const terms = a.map((v, i) => sigmoidLoss(BETA * (v - c[i]!), 0));
  return { loss: meanOf(terms), scale: meanOf(terms.map(Math.abs)) };
}

export const PREFERENCE: Readonly<Record<string, Reference>> = {
  dpo: perPair((p) => sigmoidLoss(BETA * (p.uc - p.ur), 0)),
  ipo: perPair((p) => (p.uc / Math.max(p.Lc, 1) - p.ur / Math.max(p.Lr, 1) - 1 / (2 * BETA)) ** 2),
  hinge: perPair((p) => Math.max(0, 1 - BETA * (p.uc - p.ur))),
  rdpo: perPair((p) => (-(0.9) * logSigmoid(BETA * (p.uc - p.ur)) + 0.1 * logSigmoid(-BETA * (p.uc - p.ur))) / 0.8),
  bco_pair: perPair((p) => -logSigmoid(BETA * p.uc) - logSigmoid(-BETA * p.ur)),
  sppo_hard: perPair((p) => (p.uc - 1 / (2 * BETA)) ** 2 + (p.ur + 1 / (2 * BETA)) ** 2),
  nca_pair: perPair((p) => -logSigmoid(BETA * p.uc) - 0.5 * logSigmoid(-BETA * p.uc) - 0.5 * logSigmoid(-BETA * p.ur)),
  aot: (b, lp) => {
    const ps = pairs(b, lp);
    return aotLoss(ps.map((p) => p.pic - p.pir), ps.map((p) => p.refc - p.refr));
  },
  aot_pair: (b, lp) => {
    const ps = pairs(b, lp);
    return aotLoss(ps.map((p) => p.uc), ps.map((p) => p.ur));
  },
  apo_zero: perPair((p) => 1 - sigmoid(BETA * p.uc) + sigmoid(BETA * p.ur)),
  apo_down: perPair((p) => sigmoid(BETA * p.uc) + 1 - sigmoid(BETA * (p.uc - p.ur))),
  exo_pair: perPair((p) => {
    const z = BETA * (p.uc - p.ur);
    const e = 1e-3;
    return sigmoid(z) * (logSigmoid(z) - Math.log(1 - e)) + sigmoid(-z) * (logSigmoid(-z) - Math.log(e));
  }),
  discopop: perPair((p) => {
    const z = BETA * (p.uc - p.ur);
    const w = sigmoid(z / 0.05);
    return -logSigmoid(z) * (1 - w) + Math.exp(-z) * w;
  }),
  rpo: (b, lp) => {
    const dpoTerms = pairs(b, lp).map((p) => sigmoidLoss(BETA * (p.uc - p.ur), 0));
    let nll = 0;
    let n = 0;
    for (let i = 0; i < b.B; i++) {
      nll -= seqSum(b, lp, i * 2);
      n += len(b, i * 2);
    }
    return { loss: meanOf(dpoTerms) + nll / n, scale: meanOf(dpoTerms.map(Math.abs)) + Math.abs(nll / n) };
  },
  ln_dpo: perPair((p) => -logSigmoid(BETA * (p.uc / Math.max(p.Lc, 1) - p.ur / Math.max(p.Lr, 1)))),
};

// ---- token-level methods: returns, GAE, whitening -----------------------------------------------

/** verl's masked_whiten over the batch's completion tokens: unbiased var, + 1e-8; every position. */
function whiten(b: RefBatch, x: Float64Array): Float64Array {
  let n = 0;
  let s = 0;
  b.mask.forEach((m, k) => {
    if (m !== 0) {
      n += m;
      s += x[k]! * m;
    }
  });
  const mu = s / n;
  let v = 0;
  b.mask.forEach((m, k) => {
    if (m !== 0) v += m * (x[k]! - mu) ** 2;
  });
  const sd = Math.sqrt(v / (n - 1) + 1e-8);
  return x.map((xi) => (xi - mu) / sd);
}

/** max |x| / std over the completion tokens: the scale float32 rounding works at in whiten(x). */
function whitenScale(b: RefBatch, x: Float64Array): number {
  const xs = Array.from(x).filter((_, k) => b.mask[k] !== 0);
  const mu = meanOf(xs);
  const sd = Math.sqrt(xs.reduce((a, v) => a + (v - mu) ** 2, 0) / (xs.length - 1) + 1e-8);
  return Math.max(...xs.map(Math.abs)) / sd;
}

/** Reverse discounted sums of x along T, within each completion (x is zero past its end). */
function discounted(b: RefBatch, x: Float64Array, gamma: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let s = 0; s < b.B * b.G; s++) {
    let acc = 0;
    for (let t = b.T - 1; t >= 0; t--) {
      const k = s * b.T + t;
      acc = (b.mask[k] === 0 ? 0 : x[k]!) + gamma * acc;
      out[k] = acc;
    }
  }
  return out;
}

/** The token-mean of the PPO-clip loss with token advantages A. */
function ppoClipTokenMean(b: RefBatch, lp: Float64Array, A: Float64Array, lo = 0.2, hi = 0.2): { sum: number; abs: number; tokens: number } {
  return tokenSum(b, (_, k) => clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), A[k]!, lo, hi));
}

export const reinforce_pp: Reference = (b, lp) => {
  const returns = discounted(b, b.token_reward, 1);
  const A = whiten(b, returns).map((v, k) => v * b.mask[k]!);
  const { sum, abs, tokens } = ppoClipTokenMean(b, lp, A);
  return { loss: sum / tokens, scale: abs / tokens, A, AScale: whitenScale(b, returns) };
};

export const reinforce_pp_baseline: Reference = (b, lp) => {
  const score = Array.from({ length: b.B * b.G }, (_, s) => seqSum(b, b.token_reward, s));
  const a = score.map((v, s) => {
    if (b.G < 2) return v;
    const g = Math.floor(s / b.G);
    return v - meanOf(score.slice(g * b.G, (g + 1) * b.G));
  });
  const spread = Float64Array.from(b.mask, (m, k) => m * a[Math.floor(k / b.T)]!);
  const A = whiten(b, spread).map((v, k) => v * b.mask[k]!);
  const { sum, abs, tokens } = ppoClipTokenMean(b, lp, A);
  return { loss: sum / tokens, scale: abs / tokens, A, AScale: whitenScale(b, spread) };
};

export const ppo: Reference = (b, lp) => {
  const gamma = 1;
  const lam = 0.95;
  const V = b.old_values.map((v, k) => (b.mask[k] === 0 ? 0 : v));
  const delta = V.map((v, k) => {
    const t = k % b.T;
    const next = t + 1 < b.T ? V[k + 1]! : 0;
    return (b.mask[k] === 0 ? 0 : b.token_reward[k]!) + gamma * next - v;
  });
  const raw = discountedAll(b, delta, gamma * lam);
  const returns = raw.map((a, k) => a + V[k]!);
  const A = whiten(b, raw);
  const pg = ppoClipTokenMean(b, lp, A);
  const vf = tokenSum(b, (_, k) => {
    const v = b.values[k]!;
    const vc = clamp(v, b.old_values[k]! - 0.2, b.old_values[k]! + 0.2);
    return Math.max((v - returns[k]!) ** 2, (vc - returns[k]!) ** 2);
  });
  return { loss: pg.sum / pg.tokens + 0.1 * 0.5 * (vf.sum / vf.tokens), scale: pg.abs / pg.tokens + 0.05 * (vf.abs / vf.tokens), A, AScale: whitenScale(b, raw) };
};

/** Reverse discounted sums over every position (x already zero in the padding). */
function discountedAll(b: RefBatch, x: Float64Array, g: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let s = 0; s < b.B * b.G; s++) {
    let acc = 0;
    for (let t = b.T - 1; t >= 0; t--) {
      acc = x[s * b.T + t]! + g * acc;
      out[s * b.T + t] = acc;
    }
  }
  return out;
}

/**
 * SPO: raw = value_end - value_start on the kept tokens (completion tokens whose old probability is
 * below 0.9), whitened over them (unbiased variance, + 1e-8), 0 elsewhere; token-mean over the kept
 * tokens of the PPO-clip loss plus 1e-4 k3.
 */
export const spo: Reference = (b, lp) => {
  const keep = b.mask.map((m, k) => (m !== 0 && Math.exp(b.old_logp[k]!) < 0.9 ? 1 : 0));
  const raw = b.value_end.map((v, k) => v - b.value_start[k]!);
  const kept = Array.from(raw).filter((_, k) => keep[k] === 1);
  const mu = meanOf(kept);
  const sd = Math.sqrt(kept.reduce((a, v) => a + (v - mu) ** 2, 0) / (kept.length - 1) + 1e-8);
  const A = raw.map((v, k) => (keep[k] === 1 ? (v - mu) / sd : 0));
  let sum = 0;
  let abs = 0;
  keep.forEach((m, k) => {
    if (m === 0) return;
    const d = b.ref_logp[k]! - lp[k]!;
    const v = clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), A[k]!, 0.2, 0.2) + 1e-4 * (Math.exp(d) - d - 1);
    sum += v;
    abs += Math.abs(v);
  });
  const n = Math.max(kept.length, 1);
  return { loss: sum / n, scale: abs / n, A, AScale: Math.max(...kept.map(Math.abs)) / sd };
};

export const GROUP: Readonly<Record<string, Reference>> = { grpo, dr_grpo, dapo, ghpo, gspo, cispo, rloo, remax };
export const TOKEN_LEVEL: Readonly<Record<string, Reference>> = { ppo, reinforce_pp, reinforce_pp_baseline, spo };
