/**
 * References for the stdlib pipelines that close methods the method table marked "not yet"
 * (ld_dpo, ...), written out by hand from the formulas in plain float64 TS over flat arrays.
 * Nothing here uses the compiler or its ops. Each reference takes the batch and `lp`, the
 * log-probs to differentiate.
 */
import type { RefBatch, RefResult } from './references.js';

const logSigmoid = (x: number): number => -(Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x))));

/** Completion length of row s. */
function len(b: RefBatch, s: number): number {
  let n = 0;
  for (let t = 0; t < b.T; t++) n += b.mask[s * b.T + t]!;
  return n;
}

/**
 * LD-DPO (TRL `ld_alpha`): each row's log-ratio sum weights its k-th completion token (k counted
 * from 1 over the mask) by 1 when k <= min(L_c, L_r), by alpha beyond; DPO's sigmoid loss with
 * label smoothing ls on beta (u_c - u_r), mean over pairs.
 */
export function ldDpo(alpha: number, beta = 0.1, ls = 0): (b: RefBatch, lp: Float64Array) => RefResult {
  return (b, lp) => {
    let loss = 0;
    let scale = 0;
    for (let i = 0; i < b.B; i++) {
      const c = i * 2;
      const r = c + 1;
      const P = Math.min(len(b, c), len(b, r));
      const u = (s: number): number => {
        let k = 0;
        let acc = 0;
        for (let t = 0; t < b.T; t++) {
          const j = s * b.T + t;
          if (b.mask[j] === 0) continue;
          k += 1;
          acc += (k <= P ? 1 : alpha) * (lp[j]! - b.ref_logp[j]!);
        }
        return acc;
      };
      const z = beta * (u(c) - u(r));
      const term = -(1 - ls) * logSigmoid(z) - ls * logSigmoid(-z);
      loss += term;
      scale += Math.abs(term);
    }
    return { loss: loss / b.B, scale: scale / b.B };
  };
}

/**
 * GRPO (unbiased group std + eps, a singleton group gives A = 0; clipped surrogate; k3 KL with
 * weight beta; (1/(B G)) sum_i mean_t, an empty completion counting 0) with the ratio's
 * denominator given per token by `denom(j)`: the shared body of guide's reference.
 */
function grpoWithDenominator(b: RefBatch, lp: Float64Array, denom: (j: number) => number, eps = 1e-6, lo = 0.2, hi = 0.2, beta = 0.04): RefResult {
  const A = new Float64Array(b.B * b.G);
  for (let i = 0; i < b.B; i++) {
    const rs = Array.from({ length: b.G }, (_, g) => b.reward[i * b.G + g]!);
    const mu = rs.reduce((x, y) => x + y, 0) / b.G;
    const sd = b.G < 2 ? 0 : Math.sqrt(rs.reduce((x, y) => x + (y - mu) ** 2, 0) / (b.G - 1));
    for (let g = 0; g < b.G; g++) A[i * b.G + g] = b.G < 2 ? 0 : (rs[g]! - mu) / (sd + eps);
  }
  let loss = 0;
  let scale = 0;
  for (let s = 0; s < b.B * b.G; s++) {
    const L = len(b, s);
    if (L === 0) continue;
    let acc = 0;
    let abs = 0;
    for (let t = 0; t < b.T; t++) {
      const j = s * b.T + t;
      if (b.mask[j] === 0) continue;
      const ratio = Math.exp(lp[j]! - denom(j));
      const a = A[s]!;
      const surrogate = Math.min(ratio * a, Math.min(1 + hi, Math.max(1 - lo, ratio)) * a);
      const d = b.ref_logp[j]! - lp[j]!;
      const term = -surrogate + beta * (Math.exp(d) - d - 1);
      acc += term;
      abs += Math.abs(term);
    }
    loss += acc / L;
    scale += abs / L;
  }
  const n = b.B * b.G;
  return { loss: loss / n, scale: scale / n, A, AScale: A.reduce((x, y) => Math.max(x, Math.abs(y)), 0) };
}

/**
 * Guide: GRPO whose ratio is exp(logp - hinted) on the tokens of guided completions (guided[s] =
 * 1) and exp(logp - old_logp) elsewhere.
 */
export function guide(guided: ArrayLike<number>, hinted: ArrayLike<number>): (b: RefBatch, lp: Float64Array) => RefResult {
  return (b, lp) => grpoWithDenominator(b, lp, (j) => (guided[Math.floor(j / b.T)]! > 0 ? hinted[j]! : b.old_logp[j]!));
}

/** Direct Advantage PO's step inputs: S steps per row, flat [B,G,S] (step_of flat [B,G,T]). */
export interface StepInputs {
  readonly S: number;
  readonly stepOf: ArrayLike<number>;
  readonly before: ArrayLike<number>;
  readonly after: ArrayLike<number>;
  readonly stepMask: ArrayLike<number>;
}

/**
 * Direct Advantage PO: A = (V_after - V_before) on each unmasked step; u = the step's sum of
 * (lp - ref_logp) over its completion tokens; loss = sum over unmasked steps of (beta u - A)^2,
 * divided by the number of unmasked steps (at least 1).
 */
export function directAdvantagePo(x: StepInputs, beta = 0.1): (b: RefBatch, lp: Float64Array) => RefResult {
  return (b, lp) => {
    const rows = b.B * b.G;
    const A = new Float64Array(rows * x.S);
    let loss = 0;
    let scale = 0;
    let steps = 0;
    for (let r = 0; r < rows; r++) {
      for (let s = 0; s < x.S; s++) {
        const k = r * x.S + s;
        if (x.stepMask[k] === 0) continue;
        A[k] = x.after[k]! - x.before[k]!;
        let u = 0;
        for (let t = 0; t < b.T; t++) {
          const j = r * b.T + t;
          if (b.mask[j] !== 0 && x.stepOf[j] === s) u += lp[j]! - b.ref_logp[j]!;
        }
        const term = (beta * u - A[k]!) ** 2;
        loss += term;
        scale += term;
        steps += 1;
      }
    }
    const n = Math.max(steps, 1);
    return { loss: loss / n, scale: scale / n, A, AScale: A.reduce((p, q) => Math.max(p, Math.abs(q)), 0) };
  };
}

/**
 * CGPO (CRPG-style gating): a row passes iff all K judge flags are > 0.5; its reward is `correct`
 * when it passes, `violation` otherwise; then GRPO on those rewards (ratio exp(lp - old_logp)).
 */
export function cgpo(correct: ArrayLike<number>, judges: ArrayLike<number>, K: number, violation = 0): (b: RefBatch, lp: Float64Array) => RefResult {
  return (b, lp) => {
    const reward = Float64Array.from({ length: b.B * b.G }, (_, s) => {
      let ok = true;
      for (let k = 0; k < K; k++) if (!(judges[s * K + k]! > 0.5)) ok = false;
      return ok ? correct[s]! : violation;
    });
    return grpoWithDenominator({ ...b, reward }, lp, (j) => b.old_logp[j]!);
  };
}

/**
 * SPO-tree: per prompt, edges with equal parent ids are siblings; V(parent) = the siblings' mean
 * value, A = value - V(parent) (divided by the siblings' unbiased std + 1e-8 with stdNorm); edges
 * with A = 0 are dropped; PPO clip 0.2, k3 KL 1e-4, token-mean over the kept edges' tokens.
 */
export function spoTree(parent: ArrayLike<number>, value: ArrayLike<number>, stdNorm = false, beta = 1e-4): (b: RefBatch, lp: Float64Array) => RefResult {
  return (b, lp) => {
    const A = new Float64Array(b.B * b.G);
    for (let i = 0; i < b.B; i++) {
      for (let g = 0; g < b.G; g++) {
        const s = i * b.G + g;
        const sib: number[] = [];
        for (let h = 0; h < b.G; h++) if (parent[i * b.G + h] === parent[s]) sib.push(value[i * b.G + h]!);
        const mu = sib.reduce((x, y) => x + y, 0) / sib.length;
        const sd = Math.sqrt(sib.reduce((x, y) => x + (y - mu) ** 2, 0) / Math.max(sib.length - 1, 1));
        const dev = value[s]! - mu;
        A[s] = stdNorm ? dev / (sd + 1e-8) : dev;
      }
    }
    let loss = 0;
    let scale = 0;
    let n = 0;
    for (let j = 0; j < lp.length; j++) {
      const s = Math.floor(j / b.T);
      if (b.mask[j] === 0 || A[s] === 0) continue;
      const ratio = Math.exp(lp[j]! - b.old_logp[j]!);
      const a = A[s]!;
      const d = b.ref_logp[j]! - lp[j]!;
      const term = -Math.min(ratio * a, Math.min(1.2, Math.max(0.8, ratio)) * a) + beta * (Math.exp(d) - d - 1);
      loss += term;
      scale += Math.abs(term);
      n += 1;
    }
    const m = Math.max(n, 1);
    return { loss: loss / m, scale: scale / m, A, AScale: A.reduce((x, y) => Math.max(x, Math.abs(y)), 0) };
  };
}

/** Every pipeline that test/stdlib/stdlib-gaps.test.ts checks against a reference here. */
export const GAPS_TESTED: readonly string[] = Object.freeze(['ld_dpo', 'guide', 'direct_advantage_po', 'cgpo', 'spo_tree', 'srpo']);

/**
 * SRPO (reconstruction): with S(x)_s = sum over row s's completion tokens of x,
 * h_gen = (S(lp) - S(ref))_c - (S(lp) - S(ref))_r and h_rev the same on the revision streams,
 * loss = mean over pairs of (h_gen - 1/(2 beta))^2 + w (h_rev - 1/(2 beta))^2.
 */
export function srpo(rev: Float64Array, revRef: Float64Array, w = 1, beta = 0.1): (b: RefBatch, lp: Float64Array) => RefResult {
  const sum = (b: RefBatch, x: ArrayLike<number>, s: number): number => {
    let acc = 0;
    for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) acc += x[s * b.T + t]!;
    return acc;
  };
  return (b, lp) => {
    let loss = 0;
    let scale = 0;
    for (let i = 0; i < b.B; i++) {
      const c = i * 2;
      const r = c + 1;
      const hGen = sum(b, lp, c) - sum(b, b.ref_logp, c) - (sum(b, lp, r) - sum(b, b.ref_logp, r));
      const hRev = sum(b, rev, c) - sum(b, revRef, c) - (sum(b, rev, r) - sum(b, revRef, r));
      const term = (hGen - 1 / (2 * beta)) ** 2 + w * (hRev - 1 / (2 * beta)) ** 2;
      loss += term;
      scale += Math.abs(term);
    }
    return { loss: loss / b.B, scale: scale / b.B };
  };
}
