/**
 * Standard library II written out by hand from the formulas of methods.md / methods-full.md,
 * in plain float64 TS over flat arrays. Nothing here uses the compiler or its ops (lgamma here
 * is Stirling's series, not the op's Lanczos). Each reference takes the batch and `lp`, the
 * log-probs to differentiate.
 */
import type { RefBatch, RefResult, Reference } from './references.js';

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** log Gamma(x), x > 0: shift above 30, then Stirling's series (6 terms). */
export function lgammaRef(x: number): number {
  let shift = 0;
  let z = x;
  while (z < 30) {
    shift += Math.log(z);
    z += 1;
  }
  const z2 = 1 / (z * z);
  const series = (1 / z) * (1 / 12 - z2 * (1 / 360 - z2 * (1 / 1260 - z2 * (1 / 1680 - z2 * (1 / 1188 - z2 * (691 / 360360))))));
  return (z - 0.5) * Math.log(z) - z + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/** Beta(a, b) density at p in [0, 1], with 0^0 = 1. */
export function betaPdf(p: number, a: number, b: number): number {
  const xlogy = (x: number, y: number): number => (x === 0 ? 0 : x * Math.log(y));
  return Math.exp(xlogy(a - 1, p) + xlogy(b - 1, 1 - p) - (lgammaRef(a) + lgammaRef(b) - lgammaRef(a + b)));
}

/** BNPO's advantage of rewards in [0, 1], `r` flat [B, G] (stride `stride` between a completion's entries). */
export function bnpoAdvantage(r: ArrayLike<number>, B: number, G: number, wMax = 1e6): Float64Array {
  const p = Array.from({ length: B }, (_, i) => {
    if (G < 2) return 0;
    let s = 0;
    for (let g = 0; g < G; g++) s += r[i * G + g]!;
    return s / G;
  });
  const m = B < 2 ? 0 : p.reduce((x, y) => x + y, 0) / B;
  const v = B < 2 ? 1 : p.reduce((x, y) => x + (y - m) ** 2, 0) / (B - 1);
  let alpha = 1;
  let beta = 1;
  if (v !== 0) {
    const k = (m * (1 - m)) / v - 1;
    alpha = Math.max(1, 1 + (k * m) / 3);
    beta = Math.max(1, 1 + (k * (1 - m)) / 3);
  }
  const A = new Float64Array(B * G);
  for (let i = 0; i < B; i++) {
    const w = clamp(1 / betaPdf(p[i]!, alpha, beta), 0, wMax);
    for (let g = 0; g < G; g++) A[i * G + g] = w * (r[i * G + g]! - p[i]!);
  }
  return A;
}

/** Dual-clip PPO loss of one token. */
function dualClip(ratio: number, A: number, lo: number, hi: number, c: number): number {
  const l = -Math.min(ratio * A, clamp(ratio, 1 - lo, 1 + hi) * A);
  return A < 0 ? Math.min(l, -c * A) : l;
}

/** Per-completion aggregation: sum over tokens (or mean with `mean`), then sum over completions / N. */
function seqAggregate(b: RefBatch, f: (s: number, k: number) => number, mean: boolean): { loss: number; scale: number } {
  const N = b.B * b.G;
  let loss = 0;
  let scale = 0;
  for (let s = 0; s < N; s++) {
    let acc = 0;
    let abs = 0;
    let n = 0;
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] === 0) continue;
      const v = f(s, k);
      acc += v;
      abs += Math.abs(v);
      n += 1;
    }
    if (n === 0) continue;
    loss += mean ? acc / n : acc;
    scale += mean ? abs / n : abs;
  }
  return { loss: loss / N, scale: scale / N };
}

/** BNPO (defaults: rewards in [0, 1], w_max 1e6, clip 0.2 / 0.28, dual clip 10, seq-mean-token-sum). */
export function bnpoWith(A: Float64Array): Reference {
  return (b, lp): RefResult => {
    const { loss, scale } = seqAggregate(b, (s, k) => dualClip(Math.exp(lp[k]! - b.old_logp[k]!), A[s]!, 0.2, 0.28, 10), false);
    const maxA = A.reduce((x, y) => Math.max(x, Math.abs(y)), 0);
    return { loss, scale, A, AScale: maxA };
  };
}

export const bnpo: Reference = (b, lp) => bnpoWith(bnpoAdvantage(b.reward, b.B, b.G))(b, lp);

/** BNPO with advantage decomposition: the mean over components of each component's BNPO advantage. */
export function bnpoDecomposed(components: Float64Array, C: number): Reference {
  return (b, lp) => {
    const N = b.B * b.G;
    const A = new Float64Array(N);
    for (let c = 0; c < C; c++) {
      const rc = Float64Array.from({ length: N }, (_, s) => components[s * C + c]!);
      bnpoAdvantage(rc, b.B, b.G).forEach((a, s) => (A[s] = A[s]! + a / C));
    }
    return bnpoWith(A)(b, lp);
  };
}

/** GRPO's group advantage (r - mean) / (std + eps), unbiased std, 0 for a group of one. */
function groupAdvantage(b: RefBatch, eps = 1e-6): Float64Array {
  const A = new Float64Array(b.B * b.G);
  for (let i = 0; i < b.B; i++) {
    const r = Array.from(b.reward.subarray(i * b.G, (i + 1) * b.G));
    const m = r.reduce((x, y) => x + y, 0) / b.G;
    const sd = b.G > 1 ? Math.sqrt(r.reduce((x, y) => x + (y - m) ** 2, 0) / (b.G - 1)) : 0;
    r.forEach((v, g) => (A[i * b.G + g] = b.G > 1 ? (v - m) / (sd + eps) : 0));
  }
  return A;
}

/** MDPO at `step` of `total`: seq-mean-token-mean of -ratio A + (ratio log ratio - ratio + 1) / t. */
export function mdpo(step: number, total: number): Reference {
  return (b, lp) => {
    const A = groupAdvantage(b);
    const t = Math.max(1 - step / total, 1 / total);
    const { loss, scale } = seqAggregate(b, (s, k) => {
      const d = lp[k]! - b.old_logp[k]!;
      const ratio = Math.exp(d);
      return -ratio * A[s]! + (ratio * d - ratio + 1) / t;
    }, true);
    return { loss, scale, A };
  };
}

/** Token mean of x over completion s (0 for an empty completion). */
function tokenMean(b: RefBatch, x: (k: number) => number, s: number): number {
  let acc = 0;
  let n = 0;
  for (let t = 0; t < b.T; t++) {
    const k = s * b.T + t;
    if (b.mask[k] === 0) continue;
    acc += x(k);
    n += 1;
  }
  return n === 0 ? 0 : acc / n;
}

/** Which prompts have both a positive (reward > 0) and a negative completion: 1 or 0, [B]. */
function mixedGroups(b: RefBatch): Float64Array {
  return Float64Array.from({ length: b.B }, (_, i) => {
    const r = Array.from(b.reward.subarray(i * b.G, (i + 1) * b.G));
    return r.some((v) => v > 0) && r.some((v) => v <= 0) ? 1 : 0;
  });
}

/** DisCO (log-sum-exp over negatives) or DisCO-b (mean), log-L or L-ratio scores. */
export function disco(opts: { mean?: boolean; ratio?: boolean; tau?: number; delta?: number; penalty?: number } = {}): Reference {
  const tau = opts.tau ?? 10;
  const delta = opts.delta ?? 1e-4;
  const penalty = opts.penalty ?? 1000;
  return (b, lp) => {
    const mixed = mixedGroups(b);
    const s = Float64Array.from({ length: b.B * b.G }, (_, i) => tokenMean(b, (k) => (opts.ratio === true ? Math.exp(lp[k]! - b.old_logp[k]!) : lp[k]!), i));
    let J = 0;
    let scale = 0;
    for (let q = 0; q < b.B; q++) {
      if (mixed[q] === 0) continue;
      const pos: number[] = [];
      const neg: number[] = [];
      for (let g = 0; g < b.G; g++) (b.reward[q * b.G + g]! > 0 ? pos : neg).push(s[q * b.G + g]!);
      const mp = pos.reduce((x, y) => x + y, 0) / pos.length;
      const contrast = opts.mean === true ? neg.reduce((x, y) => x + y, 0) / neg.length : tau * Math.log(neg.reduce((x, y) => x + Math.exp(y / tau), 0));
      J += mp - contrast;
      scale += Math.abs(mp) + Math.abs(contrast);
    }
    J /= b.B;
    let klSum = 0;
    let tokens = 0;
    let dl = 0;
    b.mask.forEach((m, k) => {
      if (m === 0) return;
      klSum += b.old_logp[k]! - lp[k]!;
      dl += Math.abs(b.old_logp[k]!) + Math.abs(lp[k]!);
      tokens += 1;
    });
    const kl = klSum / tokens;
    // The penalty's coefficient is held constant (stop-gradient): computed from b.logp.
    let kl0 = 0;
    b.mask.forEach((m, k) => (kl0 += m === 0 ? 0 : b.old_logp[k]! - b.logp[k]!));
    const coef = Math.max(0, penalty * (kl0 / tokens - delta));
    return { loss: -J + coef * kl, scale: scale / b.B + coef * (dl / tokens), A: mixed };
  };
}

/** NFT with its defaults (w_neg 1, eps_neg 1, norm 1000). */
export const nft: Reference = (b, lp) => {
  const mixed = mixedGroups(b);
  let loss = 0;
  let scale = 0;
  for (let i = 0; i < b.B; i++) {
    if (mixed[i] === 0) continue;
    let pc = 0;
    for (let g = 0; g < b.G; g++) pc += b.reward[i * b.G + g]! > 0 ? 1 : 0;
    const q = clamp(pc / b.G, 0.02, 0.98);
    for (let g = 0; g < b.G; g++) {
      const s = i * b.G + g;
      const positive = b.reward[s]! > 0;
      for (let t = 0; t < b.T; t++) {
        const k = s * b.T + t;
        if (b.mask[k] === 0) continue;
        const R = Math.exp(Math.min(lp[k]! - b.old_logp[k]!, 10));
        let v: number;
        if (positive) v = -Math.log(R);
        else {
          // Value: -log(max(proxy, 1)); gradient: -d proxy / max(proxy, 1) (straight through). The
          // value at lp and the held-constant clamp at b.logp give exactly that gradient.
          const R0 = Math.exp(Math.min(b.logp[k]! - b.old_logp[k]!, 10));
          const proxy0 = (1 - q * R0) / (1 - q);
          const proxy = (1 - q * R) / (1 - q);
          v = -Math.log(Math.max(proxy0, 1)) - (proxy - proxy0) / Math.max(proxy0, 1);
        }
        loss += (1 - q) * v;
        scale += Math.abs((1 - q) * v);
      }
    }
  }
  return { loss: loss / 1000, scale: scale / 1000, A: mixed };
};

/** PPO-max's running moments of the RM scores (count, mean, sum of squared deviations). */
export interface Moments {
  readonly n: number;
  readonly mu: number;
  readonly m2: number;
}

/** Merge a batch of scores into the moments (Chan et al.'s parallel update). */
export function mergeMoments(s: Moments, xs: ArrayLike<number>): Moments {
  const k = xs.length;
  let bm = 0;
  for (let i = 0; i < k; i++) bm += xs[i]! / k;
  let bm2 = 0;
  for (let i = 0; i < k; i++) bm2 += (xs[i]! - bm) ** 2;
  const n = s.n + k;
  const d = bm - s.mu;
  return { n, mu: s.mu + (d * k) / n, m2: s.m2 + bm2 + (d * d * s.n * k) / n };
}

/**
 * PPO-max with the moments `before` this batch: token rewards -0.01 (old_logp - ref_logp) plus
 * reward / running std on the last token, then `ppoRef` (the stdlib's PPO reference) on them.
 */
export function ppoMax(before: Moments, ppoRef: Reference): Reference {
  return (b, lp) => {
    const after = mergeMoments(before, b.reward);
    const sd = after.m2 > 0 ? Math.sqrt(after.m2 / after.n) : 1;
    const tr = Float64Array.from(b.mask, (m, k) => {
      if (m === 0) return 0;
      const s = Math.floor(k / b.T);
      const last = k % b.T === b.T - 1 || b.mask[k + 1] === 0;
      return -0.01 * (b.old_logp[k]! - b.ref_logp[k]!) + (last ? b.reward[s]! / sd : 0);
    });
    return ppoRef({ ...b, token_reward: tr }, lp);
  };
}

/** The ensemble reward: min over K (WCO), or mean - lambda * unbiased var (UWO; lambda 0: the mean). */
export function ensembleReward(rewards: Float64Array, N: number, K: number, wco: boolean, lambda: number): Float64Array {
  return Float64Array.from({ length: N }, (_, s) => {
    const r = Array.from(rewards.subarray(s * K, (s + 1) * K));
    if (wco) return Math.min(...r);
    const m = r.reduce((x, y) => x + y, 0) / K;
    const v = K > 1 ? r.reduce((x, y) => x + (y - m) ** 2, 0) / (K - 1) : 0;
    return m - lambda * v;
  });
}

/** OTC-PO's GRPO reward alpha * r_tool * correctness (c = 1, alpha = 1 by default). */
export function otcReward(calls: Float64Array, correct: Float64Array, B: number, G: number, alpha = 1, c = 1): Float64Array {
  const out = new Float64Array(B * G);
  for (let i = 0; i < B; i++) {
    const ok = Array.from({ length: G }, (_, g) => i * G + g).filter((s) => correct[s]! > 0);
    const n = ok.length === 0 ? 0 : Math.min(...ok.map((s) => calls[s]!));
    for (let g = 0; g < G; g++) {
      const s = i * G + g;
      const m = calls[s]!;
      const f = m === 0 && n === 0 ? 0 : n === 0 ? m : (2 * m * n) / (m + n);
      const rTool = f === 0 && n === 0 ? 1 : n === 0 ? Math.cos((m * Math.PI) / (2 * m + c)) : Math.sin((f * Math.PI) / (2 * n));
      out[s] = alpha * rTool * correct[s]!;
    }
  }
  return out;
}

/** GRPO's loss with advantages A: seq-mean-token-mean of PPO-clip (0.2) + beta k3. */
export function grpoLoss(b: RefBatch, lp: Float64Array, A: Float64Array, beta: number): { loss: number; scale: number } {
  return seqAggregate(b, (s, k) => {
    const ratio = Math.exp(lp[k]! - b.old_logp[k]!);
    const d = b.ref_logp[k]! - lp[k]!;
    return -Math.min(ratio * A[s]!, clamp(ratio, 0.8, 1.2) * A[s]!) + beta * (Math.exp(d) - d - 1);
  }, true);
}

/** GRPO with the unlikeliness reward (rank penalty 0.25, KL weight 0.1). */
export const unlikelyGrpo: Reference = (b, lp) => {
  const N = b.B * b.G;
  const M = Float64Array.from({ length: N }, (_, s) => tokenMean(b, (k) => b.old_logp[k]!, s));
  const shaped = new Float64Array(N);
  for (let i = 0; i < b.B; i++) {
    for (let g = 0; g < b.G; g++) {
      const s = i * b.G + g;
      let rank = 0;
      for (let h = 0; h < b.G; h++) if (M[i * b.G + h]! < M[s]!) rank += 1;
      shaped[s] = b.reward[s]! * (1 - (0.25 * rank) / b.G);
    }
  }
  const A = groupAdvantage({ ...b, reward: shaped });
  for (let i = 0; i < b.B; i++) {
    const r = Array.from(b.reward.subarray(i * b.G, (i + 1) * b.G));
    if (Math.max(...r) === Math.min(...r)) for (let g = 0; g < b.G; g++) A[i * b.G + g] = 0;
  }
  return { ...grpoLoss(b, lp, A, 0.1), A };
};

/** Sum over the completion tokens of x, for completion s. */
function seqSum(b: RefBatch, x: ArrayLike<number>, s: number): number {
  let acc = 0;
  for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) acc += x[s * b.T + t]!;
  return acc;
}

/** INPO over pairs (G = 2): mean of (z - 1/(2 eta))^2, z = D(logp) - D(ref)/3 - 2 D(iter)/3. */
export function inpo(iter: Float64Array, eta = 0.0075): Reference {
  return (b, lp) => {
    let loss = 0;
    let scale = 0;
    for (let i = 0; i < b.B; i++) {
      const D = (x: ArrayLike<number>): number => seqSum(b, x, 2 * i) - seqSum(b, x, 2 * i + 1);
      const z = D(lp) - D(b.ref_logp) / 3 - (2 * D(iter)) / 3;
      const v = (z - 1 / (2 * eta)) ** 2;
      loss += v;
      scale += v;
    }
    return { loss: loss / b.B, scale: scale / b.B };
  };
}

/** EGPO over pairs: mean of (D - (pref_0 - pref_1) / tau)^2 with token-averaged log-ratios. */
export function egpo(pref: Float64Array, tau = 0.1): Reference {
  return (b, lp) => {
    let loss = 0;
    for (let i = 0; i < b.B; i++) {
      const l = (s: number): number => tokenMean(b, (k) => lp[k]!, s) - tokenMean(b, (k) => b.ref_logp[k]!, s);
      const v = (l(2 * i) - l(2 * i + 1) - (pref[2 * i]! - pref[2 * i + 1]!) / tau) ** 2;
      loss += v;
    }
    return { loss: loss / b.B, scale: loss / b.B };
  };
}

/** P3O: pairwise advantages 2 (r - mean_G r), sequence ratios, PPO clip 0.2, mean over samples. */
export const p3o: Reference = (b, lp) => {
  const N = b.B * b.G;
  const A = new Float64Array(N);
  for (let i = 0; i < b.B; i++) {
    let m = 0;
    for (let g = 0; g < b.G; g++) m += b.reward[i * b.G + g]! / b.G;
    for (let g = 0; g < b.G; g++) A[i * b.G + g] = 2 * (b.reward[i * b.G + g]! - m);
  }
  let loss = 0;
  let scale = 0;
  for (let s = 0; s < N; s++) {
    const ratio = Math.exp(seqSum(b, lp, s) - seqSum(b, b.old_logp, s));
    const v = -Math.min(ratio * A[s]!, clamp(ratio, 0.8, 1.2) * A[s]!);
    loss += v;
    scale += Math.abs(v);
  }
  return { loss: loss / N, scale: scale / N, A };
};

/** Reg-GRPO: mean of (standardize_G(S(logp) - S(old_logp)) - A)^2, eps 1e-6. */
export const regGrpo: Reference = (b, lp) => {
  const N = b.B * b.G;
  const A = groupAdvantage(b);
  const u = Float64Array.from({ length: N }, (_, s) => seqSum(b, lp, s) - seqSum(b, b.old_logp, s));
  let loss = 0;
  let scale = 0;
  for (let i = 0; i < b.B; i++) {
    const xs = Array.from(u.subarray(i * b.G, (i + 1) * b.G));
    const m = xs.reduce((x, y) => x + y, 0) / b.G;
    const sd = b.G > 1 ? Math.sqrt(xs.reduce((x, y) => x + (y - m) ** 2, 0) / (b.G - 1)) : 0;
    xs.forEach((v, g) => {
      const z = (v - m) / (sd + 1e-6);
      loss += (z - A[i * b.G + g]!) ** 2;
      scale += z * z + A[i * b.G + g]! ** 2;
    });
  }
  return { loss: loss / N, scale: scale / N, A };
};

/** chi^2 PPO: `ppoRef`'s loss plus 0.0008 sqrt(max(mean_i f(L_i), 1e-4)), f(L) = 2cosh L - 2 (linear beyond 10). */
export function chi2Ppo(ppoRef: Reference): Reference {
  return (b, lp) => {
    const base = ppoRef(b, lp);
    const N = b.B * b.G;
    let chi2 = 0;
    for (let s = 0; s < N; s++) {
      const L = seqSum(b, lp, s) - seqSum(b, b.ref_logp, s);
      const a = Math.min(Math.abs(L), 10);
      chi2 += (2 * Math.cosh(a) - 2 + 2 * Math.sinh(10) * (Math.abs(L) - a)) / N;
    }
    const term = 0.0008 * Math.sqrt(Math.max(chi2, 1e-4));
    return { ...base, loss: base.loss + term, scale: base.scale + term };
  };
}

/** HAPO's reward (cos floor -0.7, weight 1) and the history after the batch; ids[i] is prompt i's dataset index, h[p] = Infinity while unset. */
export function hapoReward(b: RefBatch, correct: Float64Array, ids: readonly number[], h: readonly number[]): { reward: Float64Array; next: number[] } {
  const reward = new Float64Array(b.B * b.G);
  const next = [...h];
  for (let i = 0; i < b.B; i++) {
    const hist = h[ids[i]!]!;
    let shortest = Infinity;
    for (let g = 0; g < b.G; g++) {
      const s = i * b.G + g;
      let L = 0;
      for (let t = 0; t < b.T; t++) L += b.mask[s * b.T + t]!;
      const ok = correct[s]! > 0;
      if (ok) shortest = Math.min(shortest, L);
      let bonus = 0;
      if (Number.isFinite(hist)) {
        const x = L / hist < 2 ? Math.cos(((L / hist) * Math.PI) / 2) : -1;
        bonus = ok ? Math.max(-0.7, x) : Math.min(0, x);
      }
      reward[s] = correct[s]! + bonus;
    }
    next[ids[i]!] = Math.min(next[ids[i]!]!, shortest);
  }
  return { reward, next };
}

/** HBPO (default budgets 512, 1024, 2048, 2560, l_max 4096), clip 0.2 / 0.28, token-mean. */
export function hbpo(variant: Float64Array, correct: Float64Array, formatted: Float64Array, budgets = [512, 1024, 2048, 2560], lMax = 4096): Reference {
  return (b, lp) => {
    const N = b.B * b.G;
    const R = new Float64Array(N);
    const within = new Float64Array(N);
    for (let s = 0; s < N; s++) {
      let n = 0;
      for (let t = 0; t < b.T; t++) n += b.mask[s * b.T + t]!;
      const bud = budgets[variant[s]!]!;
      within[s] = 4 * Math.cos((Math.PI * bud) / 8192);
      if (formatted[s]! <= 0) R[s] = -1;
      else if (correct[s]! > 0 && n <= lMax) R[s] = n <= bud ? within[s]! : 4 * Math.cos((Math.PI * n) / 8192) - Math.abs(n - bud) / 4096;
    }
    const A = new Float64Array(N);
    for (let i = 0; i < b.B; i++) {
      const idx = Array.from({ length: b.G }, (_, g) => i * b.G + g);
      const m = idx.reduce((x, s) => x + R[s]!, 0) / b.G;
      const sd = Math.sqrt(idx.reduce((x, s) => x + (R[s]! - m) ** 2, 0) / (b.G - 1));
      for (const s of idx) {
        const same = idx.filter((j) => variant[j] === variant[s]);
        const mu = same.reduce((x, j) => x + R[j]!, 0) / same.length;
        A[s] = mu - within[s]! + (R[s]! - m) / (sd + 1e-6);
      }
    }
    let sum = 0;
    let abs = 0;
    let tokens = 0;
    b.mask.forEach((mk, k) => {
      if (mk === 0) return;
      const s = Math.floor(k / b.T);
      const ratio = Math.exp(lp[k]! - b.old_logp[k]!);
      const v = -Math.min(ratio * A[s]!, clamp(ratio, 0.8, 1.28) * A[s]!);
      sum += v;
      abs += Math.abs(v);
      tokens += 1;
    });
    return { loss: sum / tokens, scale: abs / tokens, A, AScale: A.reduce((x, y) => Math.max(x, Math.abs(y)), 0) };
  };
}

/** Every pipeline of standard library II that test/stdlib/stdlib-ii.test.ts checks against a reference here. */
export const II_TESTED: readonly string[] = Object.freeze([
  'bnpo', 'bnpo_decomposed', 'mdpo', 'disco', 'disco_b', 'nft', 'ppo_max', 'rm_ensemble', 'otc_grpo', 'unlikely_grpo',
  'inpo', 'egpo', 'p3o', 'reg_grpo', 'chi2_ppo', 'multi_objective_grpo', 'hapo', 'hbpo',
]);
