/**
 * Standard library II, second part (spo_chain, gigpo, brpo, aspo, grpo_lambda, t_ppo, rto, pf_ppo,
 * trpa, mdpo_diffusion), written out by hand from the formulas of methods.md / methods-full.md in
 * plain float64 TS over flat arrays, loops over samples and tokens. Nothing here uses the compiler
 * or its ops. Each reference takes the batch and `lp`, the log-probs to differentiate.
 */
import type { RefBatch, RefResult } from './references.js';

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const logSigmoid = (x: number): number => -(Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
const clippedLoss = (ratio: number, A: number, lo: number, hi: number): number => -Math.min(ratio * A, clamp(ratio, 1 - lo, 1 + hi) * A);
const k3 = (logp: number, ref: number): number => Math.exp(ref - logp) - (ref - logp) - 1;

/** Completion length of row s. */
function len(b: RefBatch, s: number): number {
  let n = 0;
  for (let t = 0; t < b.T; t++) n += b.mask[s * b.T + t]!;
  return n;
}

/** Masked token mean of x in row s (0 for an empty row). */
function rowMean(b: RefBatch, x: ArrayLike<number>, s: number): number {
  let a = 0;
  let n = 0;
  for (let t = 0; t < b.T; t++) {
    if (b.mask[s * b.T + t] === 0) continue;
    a += x[s * b.T + t]!;
    n += 1;
  }
  return n === 0 ? 0 : a / n;
}

/** GRPO's advantage of per-completion rewards r: (r - mean) / (std + eps), unbiased std, 0 for G = 1. */
export function grpoAdv(r: ArrayLike<number>, B: number, G: number, eps = 1e-6): Float64Array {
  const A = new Float64Array(B * G);
  for (let i = 0; i < B; i++) {
    let m = 0;
    for (let g = 0; g < G; g++) m += r[i * G + g]!;
    m /= G;
    let v = 0;
    for (let g = 0; g < G; g++) v += (r[i * G + g]! - m) ** 2;
    const sd = G > 1 ? Math.sqrt(v / (G - 1)) : 0;
    for (let g = 0; g < G; g++) A[i * G + g] = G > 1 ? (r[i * G + g]! - m) / (sd + eps) : 0;
  }
  return A;
}

/** GRPO's loss (seq-mean-token-mean of the clipped loss + beta k3) with A per completion or per token. */
export function grpoLoss(b: RefBatch, lp: Float64Array, A: Float64Array, beta: number): { loss: number; scale: number } {
  const N = b.B * b.G;
  const perToken = A.length === b.mask.length;
  let loss = 0;
  let scale = 0;
  for (let s = 0; s < N; s++) {
    let acc = 0;
    let abs = 0;
    let n = 0;
    for (let t = 0; t < b.T; t++) {
      const k = s * b.T + t;
      if (b.mask[k] === 0) continue;
      const v = clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), perToken ? A[k]! : A[s]!, 0.2, 0.2) + beta * k3(lp[k]!, b.ref_logp[k]!);
      acc += v;
      abs += Math.abs(v);
      n += 1;
    }
    if (n === 0) continue;
    loss += acc / n;
    scale += abs / n;
  }
  return { loss: loss / N, scale: scale / N };
}

/** Whitening over the tokens where keep is 1: (x - mean) / sqrt(unbiased var + 1e-8); the scale |x| / sd too. */
function whitenOver(x: Float64Array, keep: ArrayLike<number>): { A: Float64Array; scale: number } {
  const xs = Array.from(x).filter((_, k) => keep[k] !== 0);
  const mu = xs.reduce((a, v) => a + v, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, v) => a + (v - mu) ** 2, 0) / (xs.length - 1) + 1e-8);
  return { A: x.map((v, k) => (keep[k] !== 0 ? (v - mu) / sd : 0)), scale: Math.max(...xs.map(Math.abs)) / sd };
}

/**
 * SPO-chain: cutpoints before the low-probability tokens (old probability < 0.9), every
 * `interval`-th; each token gets V(next cut after it, else the reward) - V(last cut at or before
 * it), 0 before the first cut; whitened over the low tokens; token-mean PPO-clip + 1e-4 k3.
 */
export function spoChain(value: Float64Array, interval = 5) {
  return (b: RefBatch, lp: Float64Array): RefResult => {
    const low = b.mask.map((m, k) => (m !== 0 && Math.exp(b.old_logp[k]!) < 0.9 ? 1 : 0));
    const raw = new Float64Array(b.mask.length);
    for (let s = 0; s < b.B * b.G; s++) {
      const cuts: number[] = [];
      let c = 0;
      for (let t = 0; t < b.T; t++) {
        if (low[s * b.T + t] === 0) continue;
        if (c % interval === 0) cuts.push(t);
        c += 1;
      }
      for (let t = 0; t < b.T; t++) {
        const start = cuts.filter((u) => u <= t);
        const end = cuts.filter((u) => u > t);
        if (start.length === 0) continue;
        const vEnd = end.length > 0 ? value[s * b.T + end[0]!]! : b.reward[s]!;
        raw[s * b.T + t] = vEnd - value[s * b.T + start[start.length - 1]!]!;
      }
    }
    const nLow = low.reduce((a, v) => a + v, 0);
    const { A, scale: AScale } = nLow > 1 ? whitenOver(raw, low) : { A: new Float64Array(raw.length), scale: 0 };
    let sum = 0;
    let abs = 0;
    low.forEach((m, k) => {
      if (m === 0) return;
      const v = clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), A[k]!, 0.2, 0.2) + 1e-4 * k3(lp[k]!, b.ref_logp[k]!);
      sum += v;
      abs += Math.abs(v);
    });
    const n = Math.max(nLow, 1);
    return { loss: sum / n, scale: abs / n, A, AScale };
  };
}

/** GiGPO's inputs: [B,G,S] step rewards, anchor ids, step masks; [B,G,T] step of each token. */
export interface GigpoInputs {
  readonly S: number;
  readonly stepReward: Float64Array;
  readonly anchor: Float64Array;
  readonly stepMask: Float64Array;
  readonly stepOf: Float64Array;
}

/** GiGPO: A = GRPO(R_ep) + omega A_step(anchor group of the token's step); GRPO's loss with beta 0.01. */
export function gigpo(x: GigpoInputs, gamma = 0.95, omega = 1, std = true) {
  return (b: RefBatch, lp: Float64Array): RefResult => {
    const { S } = x;
    const eps = 1e-6;
    const Aep = grpoAdv(b.reward, b.B, b.G, eps);
    const R = new Float64Array(b.B * b.G * S);
    for (let s = 0; s < b.B * b.G; s++) {
      let acc = 0;
      for (let j = S - 1; j >= 0; j--) {
        acc = x.stepReward[s * S + j]! * x.stepMask[s * S + j]! + gamma * acc;
        R[s * S + j] = acc;
      }
    }
    const Astep = new Float64Array(R.length);
    for (let i = 0; i < b.B; i++) {
      for (let k = i * b.G * S; k < (i + 1) * b.G * S; k++) {
        if (x.stepMask[k] === 0) continue;
        const members: number[] = [];
        for (let q = i * b.G * S; q < (i + 1) * b.G * S; q++) if (x.stepMask[q] !== 0 && x.anchor[q] === x.anchor[k]) members.push(R[q]!);
        if (members.length < 2) continue;
        const mu = members.reduce((a, v) => a + v, 0) / members.length;
        const sd = Math.sqrt(members.reduce((a, v) => a + (v - mu) ** 2, 0) / (members.length - 1));
        Astep[k] = std ? (R[k]! - mu) / (sd + eps) : R[k]! - mu;
      }
    }
    const A = new Float64Array(b.mask.length);
    for (let s = 0; s < b.B * b.G; s++) {
      for (let t = 0; t < b.T; t++) {
        const j = x.stepOf[s * b.T + t]!;
        A[s * b.T + t] = Aep[s]! + (Number.isInteger(j) && j >= 0 && j < S ? omega * Astep[s * S + j]! : 0);
      }
    }
    return { ...grpoLoss(b, lp, A, 0.01), A };
  };
}

/** BRPO on the thinking tokens: segment returns, the group and history baselines, PPO-clip token-mean. */
export function brpo(budgetReward: Float64Array, budgets: readonly number[], prior: 'linear' | 'uniform' | 'last' = 'linear', h = 2) {
  return (b: RefBatch, lp: Float64Array): RefResult => {
    const U = budgets.length;
    const total = budgets.reduce((a, v) => a + v, 0);
    const p = budgets.map((v, s) => (prior === 'linear' ? v / total : prior === 'uniform' ? 1 / U : s === U - 1 ? 1 : 0));
    const r = (s: number, u: number): number => budgetReward[s * U + u]!;
    const R = (s: number, u: number): number => {
      let a = 0;
      for (let v = u; v < U; v++) a += p[v]! * r(s, v);
      return a;
    };
    const Aseg = new Float64Array(b.B * b.G * U);
    for (let i = 0; i < b.B; i++) {
      for (let u = 0; u < U; u++) {
        let V2 = 0;
        for (let g = 0; g < b.G; g++) V2 += R(i * b.G + g, u) / b.G;
        for (let g = 0; g < b.G; g++) {
          const s = i * b.G + g;
          let V1 = 0;
          if (u > 0) {
            let num = 0;
            let den = 0;
            for (let v = 0; v < u; v++) {
              num += h ** v * r(s, v);
              den += h ** v;
            }
            let tail = 0;
            for (let v = u; v < U; v++) tail += p[v]!;
            V1 = (num / den) * tail;
          }
          Aseg[s * U + u] = R(s, u) - (u * V1 + (U - u) * V2) / U;
        }
      }
    }
    const A = new Float64Array(b.mask.length);
    let sum = 0;
    let abs = 0;
    let n = 0;
    for (let s = 0; s < b.B * b.G; s++) {
      for (let t = 0; t < b.T; t++) {
        const k = s * b.T + t;
        if (b.mask[k] === 0) continue;
        const seg = budgets.filter((v) => v <= t).length;
        A[k] = seg < U ? Aseg[s * U + seg]! : 0;
        const v = clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), A[k]!, 0.2, 0.2);
        sum += v;
        abs += Math.abs(v);
        n += 1;
      }
    }
    return { loss: sum / n, scale: abs / n, A };
  };
}

/** ASPO: GRPO's advantage plus the clipped first-call bias on correct tool-calling samples; GRPO's loss. */
export function aspo(firstCall: Float64Array, delta = -2, kk = 0.7) {
  return (b: RefBatch, lp: Float64Array): RefResult => {
    const A0 = grpoAdv(b.reward, b.B, b.G);
    const A = Float64Array.from(A0);
    for (let i = 0; i < b.B; i++) {
      const E = Array.from({ length: b.G }, (_, g) => i * b.G + g).filter((s) => b.reward[s]! > 0 && firstCall[s]! >= 0);
      if (E.length === 0) continue;
      const meanP = E.reduce((a, s) => a + firstCall[s]!, 0) / E.length;
      const meanL = E.reduce((a, s) => a + len(b, s), 0) / E.length;
      if (meanL <= 0) continue;
      for (const s of E) A[s] = A0[s]! + clamp((delta * (firstCall[s]! - meanP)) / meanL, -kk * Math.abs(A0[s]!), kk * Math.abs(A0[s]!));
    }
    return { ...grpoLoss(b, lp, A, 0.04), A };
  };
}

/** GRPO-lambda's reward: the length-penalized 0/1 reward in groups with correct fraction >= threshold. */
export function grpoLambdaReward(correct: ArrayLike<number>, b: RefBatch, threshold = 0.5, alpha = 0.5): Float64Array {
  const out = new Float64Array(b.B * b.G);
  for (let i = 0; i < b.B; i++) {
    const rows = Array.from({ length: b.G }, (_, g) => i * b.G + g);
    const c: number[] = rows.map((s) => (correct[s]! > 0 ? 1 : 0));
    const L = rows.map((s) => len(b, s));
    const rho = c.reduce((a, v) => a + v, 0) / b.G;
    const lo = Math.min(...L);
    const spread = Math.max(...L) - lo;
    rows.forEach((s, g) => (out[s] = rho >= threshold ? c[g]! * (1 - (alpha * (L[g]! - lo)) / Math.max(spread, 1)) : c[g]!));
  }
  return out;
}

export function grpoLambda(correct: ArrayLike<number>) {
  return (b: RefBatch, lp: Float64Array): RefResult => {
    const A = grpoAdv(grpoLambdaReward(correct, b), b.B, b.G);
    return { ...grpoLoss(b, lp, A, 0.04), A };
  };
}

/** PPO with GAE (gamma 1, lam 0.95) of the given per-token deltas' rewards, whitened; clip 0.2, value loss 0.1. */
function ppoFromTokenReward(b: RefBatch, lp: Float64Array, tokenReward: Float64Array, bootstrap: Float64Array | null): RefResult {
  const gamma = 1;
  const lam = 0.95;
  const V = b.old_values.map((v, k) => (b.mask[k] === 0 ? 0 : v));
  const raw = new Float64Array(b.mask.length);
  for (let s = 0; s < b.B * b.G; s++) {
    const L = len(b, s);
    let acc = 0;
    for (let t = b.T - 1; t >= 0; t--) {
      const k = s * b.T + t;
      const next = t + 1 < b.T ? V[k + 1]! : 0;
      let d = (b.mask[k] === 0 ? 0 : tokenReward[k]!) + gamma * next - V[k]!;
      if (bootstrap !== null && t === L - 1) d += gamma * bootstrap[s]!;
      acc = d + gamma * lam * acc;
      raw[k] = acc;
    }
  }
  const returns = raw.map((a, k) => a + V[k]!);
  const { A, scale: AScale } = whitenOver(raw, b.mask);
  let pg = 0;
  let pgAbs = 0;
  let vf = 0;
  let vfAbs = 0;
  let n = 0;
  b.mask.forEach((m, k) => {
    if (m === 0) return;
    const l = clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), A[k]!, 0.2, 0.2);
    const v = b.values[k]!;
    const vc = clamp(v, b.old_values[k]! - 0.2, b.old_values[k]! + 0.2);
    const w = Math.max((v - returns[k]!) ** 2, (vc - returns[k]!) ** 2);
    pg += l;
    pgAbs += Math.abs(l);
    vf += w;
    vfAbs += w;
    n += 1;
  });
  return { loss: pg / n + 0.05 * (vf / n), scale: pgAbs / n + 0.05 * (vfAbs / n), A, AScale };
}

/** T-PPO (EGAE): GAE bootstrapped with the value at the cut for truncated responses. */
export function tPpo(truncated: Float64Array, bootstrapValue: Float64Array) {
  return (b: RefBatch, lp: Float64Array): RefResult => ppoFromTokenReward(b, lp, b.token_reward, truncated.map((x, s) => x * bootstrapValue[s]!));
}

/** RTO: token rewards -0.01 (old - ref) + clip(0.05 (dpo - ref), +-0.05) + clip(R, +-10) on the last token; PPO. */
export function rto(dpoLogp: Float64Array) {
  return (b: RefBatch, lp: Float64Array): RefResult => {
    const r = new Float64Array(b.mask.length);
    for (let s = 0; s < b.B * b.G; s++) {
      const L = len(b, s);
      for (let t = 0; t < b.T; t++) {
        const k = s * b.T + t;
        r[k] = -0.01 * (b.old_logp[k]! - b.ref_logp[k]!) + clamp(0.05 * (dpoLogp[k]! - b.ref_logp[k]!), -0.05, 0.05) + (t === L - 1 ? clamp(b.reward[s]!, -10, 10) : 0);
      }
    }
    return ppoFromTokenReward(b, lp, r, null);
  };
}

/** PF-PPO's kept samples: best (first argmax), worst (first argmin), other (non-best, largest frac of summed old_logp). */
export function pfKeep(b: RefBatch, filter: 'bon' | 'br' | 'bw'): Float64Array {
  const keep = new Float64Array(b.B * b.G);
  for (let i = 0; i < b.B; i++) {
    const rows = Array.from({ length: b.G }, (_, g) => i * b.G + g);
    const r = rows.map((s) => b.reward[s]!);
    const best = rows[r.indexOf(Math.max(...r))]!;
    const worst = rows[r.indexOf(Math.min(...r))]!;
    keep[best] = 1;
    if (filter === 'bw') keep[worst] = 1;
    if (filter === 'br') {
      let pick = -1;
      let top = -Infinity;
      for (const s of rows) {
        if (s === best) continue;
        let S = 0;
        for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) S += b.old_logp[s * b.T + t]!;
        const u = S - Math.floor(S);
        if (u > top) {
          top = u;
          pick = s;
        }
      }
      if (pick >= 0) keep[pick] = 1;
    }
  }
  return keep;
}

export function pfPpo(filter: 'bon' | 'br' | 'bw') {
  return (b: RefBatch, lp: Float64Array): RefResult => {
    const keep = pfKeep(b, filter);
    const A = keep.map((k, s) => k * b.reward[s]!);
    let sum = 0;
    let abs = 0;
    let n = 0;
    for (let s = 0; s < b.B * b.G; s++) {
      if (keep[s] === 0) continue;
      for (let t = 0; t < b.T; t++) {
        const k = s * b.T + t;
        if (b.mask[k] === 0) continue;
        const v = clippedLoss(Math.exp(lp[k]! - b.old_logp[k]!), A[s]!, 0.2, 0.2) + 0.01 * k3(lp[k]!, b.ref_logp[k]!);
        sum += v;
        abs += Math.abs(v);
        n += 1;
      }
    }
    return { loss: sum / Math.max(n, 1), scale: abs / Math.max(n, 1), A };
  };
}

/** TRPA: all cross-level pairs of each group, -log sigmoid(kappa beta (l_i - l_j)); fallback without pairs; + 0.001 k3 to old. */
export function trpa(level: Float64Array, beta = 0.1, kappa = 2.5) {
  return (b: RefBatch, lp: Float64Array): RefResult => {
    const ell = Array.from({ length: b.B * b.G }, (_, s) => rowMean(b, lp, s) - rowMean(b, b.ref_logp, s));
    let pairSum = 0;
    let pairAbs = 0;
    let pairs = 0;
    for (let i = 0; i < b.B; i++) {
      for (let g = 0; g < b.G; g++) {
        for (let q = 0; q < b.G; q++) {
          const a = i * b.G + g;
          const c = i * b.G + q;
          if (!(level[a]! < level[c]!)) continue;
          const v = -logSigmoid((level[a] === 1 ? kappa : 1) * beta * (ell[a]! - ell[c]!));
          pairSum += v;
          pairAbs += Math.abs(v);
          pairs += 1;
        }
      }
    }
    let pref = 0;
    let prefScale = 0;
    if (pairs > 0) {
      pref = pairSum / pairs;
      prefScale = pairAbs / pairs;
    } else {
      const terms = ell.map((l, s) => -logSigmoid(level[s] === 1 ? l : -l));
      pref = terms.reduce((x, y) => x + y, 0) / terms.length;
      prefScale = pref;
    }
    let kl = 0;
    let n = 0;
    b.mask.forEach((m, k) => {
      if (m === 0) return;
      const d = clamp(b.old_logp[k]! - lp[k]!, -20, 20);
      kl += clamp(Math.exp(d) - d - 1, -10, 10);
      n += 1;
    });
    return { loss: pref + (0.001 * kl) / n, scale: prefScale + (0.001 * kl) / n };
  };
}

/** MDPO (masked diffusion)'s batch: [B,G,T,S] per-step log-probs and masks, [B,G,S] rewards and weights. */
export interface DiffusionBatch {
  readonly B: number;
  readonly G: number;
  readonly S: number;
  readonly T: number;
  readonly logp: Float64Array;
  readonly oldLogp: Float64Array;
  readonly mask: Float64Array;
  readonly reward: Float64Array;
  readonly weight: Float64Array;
}

/** MDPO (masked diffusion): per-step advantages normalized over the group, top steps, weighted PPO-clip. */
export function mdpoDiffusion(d: DiffusionBatch, lp: Float64Array, top = 16, eps = 1e-4): { loss: number; scale: number; A: Float64Array } {
  const { B, G, S, T } = d;
  const raw = new Float64Array(B * G * S);
  for (let s = 0; s < B * G; s++) {
    for (let k = 0; k < S; k++) {
      const R = (j: number): number => d.reward[s * S + j]!;
      const inc = k === 0 ? R(0) : R(k) - R(k - 1);
      let fut = R(k);
      if (k < S - 1) {
        fut = 0;
        for (let j = k + 1; j < S; j++) fut += R(j) / (S - 1 - k);
      }
      raw[s * S + k] = inc + 1 + fut;
    }
  }
  const A = new Float64Array(raw.length);
  const trained = new Float64Array(B * S);
  for (let i = 0; i < B; i++) {
    const score = new Float64Array(S);
    for (let k = 0; k < S; k++) {
      const xs = Array.from({ length: G }, (_, g) => raw[(i * G + g) * S + k]!);
      const m = xs.reduce((a, v) => a + v, 0) / G;
      const sd = G > 1 ? Math.sqrt(xs.reduce((a, v) => a + (v - m) ** 2, 0) / (G - 1)) : 0;
      xs.forEach((v, g) => {
        A[(i * G + g) * S + k] = (v - m) / (sd + eps);
        score[k]! += Math.abs((v - m) / (sd + eps));
      });
    }
    for (let k = 0; k < S; k++) {
      let higher = 0;
      for (let j = 0; j < S; j++) if (score[j]! > score[k]!) higher += 1;
      trained[i * S + k] = higher < top ? 1 : 0;
    }
  }
  let sum = 0;
  let abs = 0;
  let n = 0;
  for (let i = 0; i < B; i++) {
    for (let g = 0; g < G; g++) {
      for (let k = 0; k < S; k++) {
        if (trained[i * S + k] === 0) continue;
        const sk = (i * G + g) * S + k;
        for (let t = 0; t < T; t++) {
          const q = ((i * G + g) * T + t) * S + k;
          if (d.mask[q] === 0) continue;
          const v = clippedLoss(Math.exp(lp[q]! - d.oldLogp[q]!), A[sk]!, 0.2, 0.2) * d.weight[sk]!;
          sum += v * d.mask[q]!;
          abs += Math.abs(v) * d.mask[q]!;
          n += d.mask[q]!;
        }
      }
    }
  }
  return { loss: sum / Math.max(n, 1), scale: abs / Math.max(n, 1), A };
}

/** The DPO-style margin of pair i (G = 2): [S(lp_c) - S(base_c)] - [S(lp_r) - S(base_r)]. */
function margin(b: RefBatch, lp: ArrayLike<number>, base: ArrayLike<number>, i: number): number {
  const u = (s: number): number => {
    let a = 0;
    for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) a += lp[s * b.T + t]! - base[s * b.T + t]!;
    return a;
  };
  return u(2 * i) - u(2 * i + 1);
}

/** SmPO (LM analogue): -log sigmoid(beta k (2p - 1) delta), p the softmax of the min-max normalized scores. */
export function smpo(scores: Float64Array, sMin = 0, sMax = 1, beta = 0.1, k = 10) {
  return (b: RefBatch, lp: Float64Array): RefResult => {
    let sum = 0;
    for (let i = 0; i < b.B; i++) {
      const n = (x: number): number => (x - sMin) / (sMax - sMin);
      const p = Math.exp(n(scores[2 * i]!)) / (Math.exp(n(scores[2 * i]!)) + Math.exp(n(scores[2 * i + 1]!)));
      sum += -logSigmoid(beta * k * (2 * p - 1) * margin(b, lp, b.ref_logp, i));
    }
    return { loss: sum / b.B, scale: sum / b.B };
  };
}

/** MCTS-DPO: conservative DPO with eps = min(1 - 1 / (1 + N_r / max(1, N_c)), 0.5). */
export function mctsDpo(visits: Float64Array, beta = 0.1) {
  return (b: RefBatch, lp: Float64Array): RefResult => {
    let sum = 0;
    let abs = 0;
    for (let i = 0; i < b.B; i++) {
      const conf = 1 / (1 + visits[2 * i + 1]! / Math.max(1, visits[2 * i]!));
      const eps = Math.min(1 - conf, 0.5);
      const d = margin(b, lp, b.ref_logp, i);
      const v = -(1 - eps) * logSigmoid(beta * d) - eps * logSigmoid(-beta * d);
      sum += v;
      abs += Math.abs(v);
    }
    return { loss: sum / b.B, scale: abs / b.B };
  };
}

/** DNO (reconstruction): DPO against the previous iterate on the pairs with margin >= minMargin. */
export function dno(iterLogp: Float64Array, margins: Float64Array, minMargin = 0, beta = 0.1) {
  return (b: RefBatch, lp: Float64Array): RefResult => {
    let sum = 0;
    let kept = 0;
    for (let i = 0; i < b.B; i++) {
      if (margins[i]! < minMargin) continue;
      sum += -logSigmoid(beta * margin(b, lp, iterLogp, i));
      kept += 1;
    }
    return { loss: sum / Math.max(kept, 1), scale: sum / Math.max(kept, 1) };
  };
}

/** The pipelines test/stdlib/stdlib-ii-b.test.ts checks against the references above. */
export const II_B_TESTED: readonly string[] = Object.freeze([
  'spo_chain', 'gigpo', 'brpo', 'aspo', 'grpo_lambda', 't_ppo', 'rto', 'pf_ppo', 'trpa', 'mdpo_diffusion', 'smpo', 'mcts_dpo', 'dno',
]);
