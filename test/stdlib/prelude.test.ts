/** The prelude's functions against their formulas, written out here in plain TS. */
import { describe, expect, it } from 'vitest';
import { memoryHost } from '../../compiler/bind/host.js';
import { compileFiles } from '../../compiler/compile.js';
import { readFileSync } from 'node:fs';
import { interpretOutputs } from '../../runtime/reference/interpreter.js';
import { named } from '../../runtime/reference/named-array.js';
import { makeBatch } from '../helpers/stdlib-harness.js';

const prelude = readFileSync('stdlib/prelude.rlp', 'utf8');
const b = makeBatch({ B: 2, G: 3, T: 4, seed: 77, reward: (r) => r() });
const tok = (x: Float64Array) => named(['B', 'G', 'T'], [b.B, b.G, b.T], x);
const inputs = {
  logp: tok(b.logp), old_logp: tok(b.old_logp), ref_logp: tok(b.ref_logp), mask: tok(b.mask),
  token_reward: tok(b.token_reward), old_values: tok(b.old_values), values: tok(b.values),
  reward: named(['B', 'G'], [b.B, b.G], b.reward),
};

/** Evaluate `expr` (in an advantage stage, with the prelude imported) on the batch. */
function value(expr: string): Float64Array {
  const src = `import "std/prelude"\npipeline p { advantage { v = ${expr} } }\n`;
  const r = compileFiles(['/w/x.rlp'], { host: memoryHost({ '/w/x.rlp': src, '/stdlib/prelude.rlp': prelude }) });
  expect(r.diagnostics).toEqual([]);
  return interpretOutputs(r.pipelines[0]!.raw, { inputs })['advantage.v']!.data;
}

const onTokens = (f: (k: number) => number): number[] => Array.from(b.mask, (m, k) => (m === 0 ? NaN : f(k)));

function expectTokens(got: Float64Array, want: number[]): void {
  want.forEach((w, k) => {
    if (!Number.isNaN(w)) expect(got[k]).toBeCloseTo(w, 10);
  });
}

describe('prelude', () => {
  const d = (k: number) => b.logp[k]! - b.ref_logp[k]!;
  it('KL estimators k1, k2, k3, clamped k3 and abs', () => {
    expectTokens(value('kl_k1(logp, ref_logp) * mask'), onTokens((k) => d(k)));
    expectTokens(value('kl_k2(logp, ref_logp) * mask'), onTokens((k) => 0.5 * d(k) ** 2));
    expectTokens(value('kl_k3(logp, ref_logp) * mask'), onTokens((k) => Math.exp(-d(k)) + d(k) - 1));
    expectTokens(value('kl_k3_clamped(logp, ref_logp) * mask'), onTokens((k) => {
      const x = Math.min(20, Math.max(-20, -d(k)));
      return Math.min(10, Math.max(-10, Math.exp(x) - x - 1));
    }));
    expectTokens(value('kl_abs(logp, ref_logp) * mask'), onTokens((k) => Math.abs(d(k))));
  });

  it('dual-clip loss caps the loss at -c A where A < 0', () => {
    const got = value('dual_clip_loss(exp(logp - old_logp), expand(reward - 0.5, over T), 0.2, 0.2, 3) * mask');
    expectTokens(got, onTokens((k) => {
      const A = b.reward[Math.floor(k / b.T)]! - 0.5;
      const ratio = Math.exp(b.logp[k]! - b.old_logp[k]!);
      const l = -Math.min(ratio * A, Math.min(1.2, Math.max(0.8, ratio)) * A);
      return A < 0 ? Math.min(l, -3 * A) : l;
    }));
  });

  it('seq-mean-token-sum and sum-over-constant aggregations', () => {
    let seqSum = 0;
    let all = 0;
    for (let s = 0; s < b.B * b.G; s++) {
      let acc = 0;
      for (let t = 0; t < b.T; t++) if (b.mask[s * b.T + t] !== 0) acc += b.logp[s * b.T + t]!;
      seqSum += acc;
      all += acc;
    }
    expect(value('seq_mean_token_sum(logp, mask, 6)')[0]).toBeCloseTo(seqSum / 6, 10);
    expect(value('sum_over_constant(logp, mask, 10)')[0]).toBeCloseTo(all / 10, 10);
  });

  it('whiten uses the masked mean and the unbiased masked variance plus 1e-8', () => {
    const xs = Array.from(b.logp).filter((_, k) => b.mask[k] !== 0);
    const mu = xs.reduce((a, x) => a + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mu) ** 2, 0) / (xs.length - 1) + 1e-8);
    expectTokens(value('whiten(logp, mask) * mask'), onTokens((k) => (b.logp[k]! - mu) / sd));
  });

  it('gae is the reverse recursion d_t + gamma lam A_{t+1} with values zero past the end', () => {
    const gamma = 0.9;
    const lam = 0.8;
    const want: number[] = [];
    for (let s = 0; s < b.B * b.G; s++) {
      let next = 0;
      let acc = 0;
      const row: number[] = [];
      for (let t = b.T - 1; t >= 0; t--) {
        const k = s * b.T + t;
        const m = b.mask[k]!;
        const V = m * b.old_values[k]!;
        const dlt = m * b.token_reward[k]! + gamma * next - V;
        acc = dlt + gamma * lam * acc;
        row.unshift(m === 0 ? NaN : acc);
        next = V;
      }
      want.push(...row);
    }
    expectTokens(value('gae(token_reward, old_values, mask, 0.9, 0.8)'), want);
  });
});
