/** Preference runs log the pipeline's own numbers (chosen_reward, rejected_reward, margin) and a measured KL, checked against the formulas by hand. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { useBackend } from '../../../runtime/backends/index.js';
import { lowerProgram } from '../../../runtime/exec/program.js';
import { preferenceMetrics } from '../../../runtime/train/preference-metrics.js';
import { rng } from '../../helpers/random-batch.js';
import { stdlibPipeline } from '../../helpers/stdlib-harness.js';

const B = 3;
const G = 2;
const R = 4;
const r = rng(5);
const logp = Float32Array.from({ length: B * G * R }, () => -3 * r());
const refLogp = Float32Array.from({ length: B * G * R }, () => -3 * r());
const lengths = [4, 2, 3, 4, 1, 3];
const mask = Float32Array.from({ length: B * G * R }, (_, i) => (i % R < lengths[Math.floor(i / R)]! ? 1 : 0));
const seq = (x: Float32Array, s: number): number => x.slice(s * R, s * R + R).reduce((a, v, t) => a + v * mask[s * R + t]!, 0);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const batch = { B, G, R, logp, refLogp, mask };

/** A SimPO-style pipeline: length-averaged log-probabilities, no reference, a target margin. */
const simpo = join(mkdtempSync(join(tmpdir(), 'rlp-simpo-')), 'simpo.rlp');
writeFileSync(simpo, `import "std/prelude"
pipeline simpo_like {
  params {
    beta: float = 2 in (0, inf)
    gamma: float = 0.5 in [0, inf)
  }
  loss {
    avg = seq_logp(logp, mask) / max(seq_len(mask), 1)
    chosen_reward = beta * avg[G=0]
    rejected_reward = beta * avg[G=1]
    margin = chosen_reward - rejected_reward - gamma
    pairs = count(margin, over B)
    minimize -sum(log_sigmoid(margin), over B) / pairs
  }
}
`);

describe('preference metrics', () => {
  it('are DPO\'s implicit rewards for dpo: beta x the summed log-ratio to the reference', async () => {
    const { tf, info } = await useBackend('cpu');
    const m = await preferenceMetrics(tf, info.name, lowerProgram(stdlibPipeline('dpo')), new Map([['beta', 0.1], ['label_smoothing', 0]]), batch);
    const u = (s: number): number => 0.1 * (seq(logp, s) - seq(refLogp, s));
    const chosen = [0, 1, 2].map((b) => u(b * 2));
    const rejected = [0, 1, 2].map((b) => u(b * 2 + 1));
    expect(m['rewards/chosen']).toBeCloseTo(mean(chosen), 5);
    expect(m['rewards/rejected']).toBeCloseTo(mean(rejected), 5);
    expect(m['rewards/margins']).toBeCloseTo(mean(chosen.map((c, i) => c - rejected[i]!)), 5);
    expect(m['rewards/accuracies']).toBe(chosen.filter((c, i) => c > rejected[i]!).length / B);
  });

  it('are SimPO\'s own numbers for a SimPO pipeline, margin included, not DPO\'s', async () => {
    const { tf, info } = await useBackend('cpu');
    const p = compileFiles([simpo]).pipelines[0]!;
    const m = await preferenceMetrics(tf, info.name, lowerProgram(p), new Map([['beta', 2], ['gamma', 0.5]]), batch);
    const avg = (s: number): number => seq(logp, s) / Math.max(lengths[s]!, 1);
    const chosen = [0, 1, 2].map((b) => 2 * avg(b * 2));
    const rejected = [0, 1, 2].map((b) => 2 * avg(b * 2 + 1));
    const margin = chosen.map((c, i) => c - rejected[i]! - 0.5);
    expect(m['rewards/chosen']).toBeCloseTo(mean(chosen), 5);
    expect(m['rewards/rejected']).toBeCloseTo(mean(rejected), 5);
    expect(m['rewards/margins']).toBeCloseTo(mean(margin), 5);
    expect(m['rewards/accuracies']).toBe(margin.filter((x) => x > 0).length / B);
  });

  it('measure the KL as the mean log-ratio to the reference over completion tokens (not a constant 0)', async () => {
    const { tf, info } = await useBackend('cpu');
    const m = await preferenceMetrics(tf, info.name, lowerProgram(stdlibPipeline('dpo')), new Map([['beta', 0.1], ['label_smoothing', 0]]), batch);
    let s = 0;
    let n = 0;
    mask.forEach((v, i) => {
      if (v > 0) {
        s += logp[i]! - refLogp[i]!;
        n++;
      }
    });
    expect(m['kl']).toBeCloseTo(s / n, 5);
    expect(m['kl']).not.toBe(0);
  });
});
