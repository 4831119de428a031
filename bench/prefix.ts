/** Shared-prefix forward+backward vs plain, as prompts grow relative to completions. */
import type * as tfc from '@tensorflow/tfjs-core';
import { useBackend, type BackendName } from '../runtime/backends/index.js';
import { completionLogProbsShared, completionLogProbsUnshared } from '../runtime/policy/model.js';
import { disposePolicy, initPolicy, policyVariables } from '../runtime/policy/params.js';

export interface PrefixRow {
  readonly G: number;
  readonly P: number;
  readonly R: number;
  readonly sharedTokensPerS: number;
  readonly plainTokensPerS: number;
  readonly measured: number;
  readonly analytic: number;
}

/** Training tokens/s (prompt + completion tokens per sequence, counted unshared) both ways. */
export async function benchPrefix(backend: BackendName = 'wasm'): Promise<PrefixRow[]> {
  const { tf } = await useBackend(backend);
  const config = { vocab: 92, dModel: 48, nHeads: 4, nLayers: 2, dFF: 96, maxLen: 600 };
  const p = initPolicy(tf, config, 1);
  const vars = policyVariables(p);
  const rows: PrefixRow[] = [];
  const R = 16;
  for (const G of [2, 8, 16]) {
    for (const ratio of [1, 4, 16]) {
      const P = R * ratio;
      const prompt = Int32Array.from({ length: P }, (_, i) => 3 + (i % 80));
      const comps = Int32Array.from({ length: G * R }, (_, i) => 3 + ((i * 7) % 80));
      const time = async (shared: boolean): Promise<number> => {
        const run = { tf, backend };
        const step = async (): Promise<void> => {
          const { value, grads } = tf.variableGrads(() => tf.sum((shared ? completionLogProbsShared : completionLogProbsUnshared)(run, p, prompt, comps, G, R)) as tfc.Scalar, vars);
          await value.data();
          tf.dispose([value, ...Object.values(grads)]);
        };
        await step();
        const reps = 3;
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) await step();
        return (performance.now() - t0) / reps;
      };
      const ts = await time(true);
      const tu = await time(false);
      const tokens = G * (P + R);
      rows.push({ G, P, R, sharedTokensPerS: tokens / (ts / 1000), plainTokensPerS: tokens / (tu / 1000), measured: tu / ts, analytic: (G * (P + R)) / (P + G * R) });
    }
  }
  disposePolicy(tf, p);
  return rows;
}
