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

/** Every pipeline that test/stdlib/stdlib-gaps.test.ts checks against a reference here. */
export const GAPS_TESTED: readonly string[] = Object.freeze(['ld_dpo']);
