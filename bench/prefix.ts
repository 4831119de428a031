/** Shared-prefix forward+backward vs plain, as prompts grow relative to completions. */
import type * as tfc from '@tensorflow/tfjs-core';
import { useBackend, type BackendName } from '../runtime/backends/index.js';
import { completionLogProbsShared, completionLogProbsUnshared } from '../runtime/policy/model.js';
import { disposePolicy, initPolicy, policyVariables } from '../runtime/policy/params.js';

export interface PrefixRow {
  readonly G: number;
  readonly P: number;
  readonly R: number;
  /** Prompts in the micro-batch. */
  readonly B: number;
  readonly sharedTokensPerS: number;
  readonly plainTokensPerS: number;
  readonly measured: number;
  readonly analytic: number;
}

/**
 * Training tokens/s (prompt + completion tokens per sequence, counted unshared) both ways, on a
 * micro-batch of B prompts with G completions each (B for about `budget` tokens), as `rlp run`
 * computes them: one batched forward and backward. Medians of 5 runs each, after warm-up.
 */
export async function benchPrefix(backend: BackendName = 'wasm', budget = 8192): Promise<PrefixRow[]> {
  const { tf } = await useBackend(backend);
  const config = { vocab: 92, dModel: 48, nHeads: 4, nLayers: 2, dFF: 96, maxLen: 600 };
  const p = initPolicy(tf, config, 1);
  const vars = policyVariables(p);
  const rows: PrefixRow[] = [];
  const R = 16;
  const run = { tf, backend };
  for (const G of [2, 8, 16]) {
    for (const ratio of [1, 4, 16]) {
      const P = R * ratio;
      // A micro-batch of about `budget` sequence tokens (counted unshared), 1 to 64 prompts.
      const B = Math.min(64, Math.max(1, Math.round(budget / (G * (P + R)))));
      const prompts = Array.from({ length: B }, (_, b) => Int32Array.from({ length: P }, (_, i) => 3 + ((i + b) % 80)));
      const comps = Int32Array.from({ length: B * G * R }, (_, i) => 3 + ((i * 7) % 80));
      const step = async (shared: boolean): Promise<number> => {
        const t0 = performance.now();
        const { value, grads } = tf.variableGrads(() => tf.sum((shared ? completionLogProbsShared : completionLogProbsUnshared)(run, p, prompts, comps, G, R)) as tfc.Scalar, vars);
        await value.data();
        tf.dispose([value, ...Object.values(grads)]);
        return performance.now() - t0;
      };
      for (let i = 0; i < 2; i++) {
        await step(true);
        await step(false);
      }
      // Each way in its own block: the plain forward's large temporaries would otherwise leave
      // garbage collection to the next shared step.
      const ts: number[] = [];
      const tu: number[] = [];
      for (let i = 0; i < 5; i++) ts.push(await step(true));
      for (let i = 0; i < 5; i++) tu.push(await step(false));
      // The fastest run: on a shared machine noise only ever adds time.
      const med = (xs: number[]): number => Math.min(...xs);
      const tokens = B * G * (P + R);
      rows.push({ G, P, R, B, sharedTokensPerS: tokens / (med(ts) / 1000), plainTokensPerS: tokens / (med(tu) / 1000), measured: med(tu) / med(ts), analytic: (G * (P + R)) / (P + G * R) });
    }
  }
  disposePolicy(tf, p);
  return rows;
}
