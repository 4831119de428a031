/** KV-cached decoding equals the plain forward; sampling is seeded, greedy at temperature 0, leak-free. */
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../../runtime/backends/index.js';
import { forward, type Runner } from '../../../runtime/policy/model.js';
import { disposePolicy, initPolicy, type PolicyConfig } from '../../../runtime/policy/params.js';
import { chooseToken, Decoder, sampleCompletions } from '../../../runtime/policy/sample.js';
import { EOS } from '../../../runtime/policy/tokenizer.js';
import { rng } from '../../helpers/random-batch.js';
import { firstMiss } from '../../helpers/stdlib-harness.js';

const config: PolicyConfig = { vocab: 11, dModel: 16, nHeads: 4, nLayers: 2, dFF: 24, maxLen: 24 };

describe('sampling with a KV cache (cpu)', () => {
  it('gives at every step the logits of the plain forward on the whole sequence', async () => {
    const { tf } = await useBackend('cpu');
    const run: Runner = { tf, backend: 'cpu' };
    const p = initPolicy(tf, config, 5);
    const before = tf.memory().numTensors;
    const prompt = Int32Array.from([3, 7, 1, 9]);
    const G = 3;
    const steps = 6;
    const r = rng(8);
    const tokens: number[][] = Array.from({ length: G }, () => []);
    const stepLogits: Float32Array[] = [];
    const dec = new Decoder(run, p, prompt, G);
    for (let t = 0; t < steps; t++) {
      stepLogits.push((await dec.next.data()) as Float32Array);
      const chosen = Int32Array.from({ length: G }, () => 3 + Math.floor(r() * 8));
      chosen.forEach((c, g) => tokens[g]!.push(c));
      dec.feed(chosen);
    }
    dec.dispose();
    const L = prompt.length + steps;
    const ids = new Int32Array(G * L);
    for (let g = 0; g < G; g++) ids.set([...prompt, ...tokens[g]!], g * L);
    const full = tf.tidy(() => forward(run, p, ids, G, L));
    const data = await full.data();
    for (let t = 0; t < steps; t++) {
      const want: number[] = [];
      for (let g = 0; g < G; g++) {
        const pos = prompt.length - 1 + t;
        want.push(...data.subarray((g * L + pos) * config.vocab, (g * L + pos + 1) * config.vocab));
      }
      expect(firstMiss(stepLogits[t]!, want, 1e-5, 1), `step ${t}`).toBeNull();
    }
    full.dispose();
    expect(tf.memory().numTensors).toBe(before);
    disposePolicy(tf, p);
  });

  it('is reproducible from a seed, varies with it, and stops at EOS or max tokens', async () => {
    const { tf } = await useBackend('cpu');
    const run: Runner = { tf, backend: 'cpu' };
    const p = initPolicy(tf, config, 6);
    const prompt = Int32Array.from([4, 5, 6]);
    const opts = (seed: number) => ({ n: 4, temperature: 1.5, topP: 1, maxTokens: 8, uniform: rng(seed) });
    const a = await sampleCompletions(run, p, prompt, opts(1));
    const b = await sampleCompletions(run, p, prompt, opts(1));
    const c = await sampleCompletions(run, p, prompt, opts(2));
    expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
    expect(Array.from(a.ids)).not.toEqual(Array.from(c.ids));
    for (const len of a.lengths) expect(len).toBeLessThanOrEqual(8);
    disposePolicy(tf, p);
  });
});

describe('the sampler\'s log-probabilities (rollout_logp)', () => {
  it('are the log-softmax of the plain forward at each sampled token, 0 on padding', async () => {
    const { tf } = await useBackend('cpu');
    const run: Runner = { tf, backend: 'cpu' };
    const p = initPolicy(tf, config, 7);
    const prompt = Int32Array.from([4, 5, 6]);
    const s = await sampleCompletions(run, p, prompt, { n: 3, temperature: 1.3, topP: 1, maxTokens: 6, uniform: rng(3) });
    const L = prompt.length + s.R;
    const ids = new Int32Array(3 * L);
    for (let g = 0; g < 3; g++) ids.set([...prompt, ...s.ids.subarray(g * s.R, (g + 1) * s.R)], g * L);
    const logits = tf.tidy(() => forward(run, p, ids, 3, L));
    const data = await logits.data();
    logits.dispose();
    for (let g = 0; g < 3; g++) {
      for (let t = 0; t < s.R; t++) {
        if (t >= s.lengths[g]!) {
          expect(s.logps[g * s.R + t]).toBe(0);
          continue;
        }
        const row = Array.from(data as Float32Array).slice((g * L + prompt.length - 1 + t) * config.vocab, (g * L + prompt.length + t) * config.vocab);
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
        expect(s.logps[g * s.R + t]!).toBeCloseTo(row[s.ids[g * s.R + t]!]! - lse, 4);
      }
    }
    disposePolicy(tf, p);
  });
});

describe('chooseToken', () => {
  it('is greedy at temperature 0 and stays inside the nucleus', () => {
    const logits = [0, 3, 1, 2.5];
    expect(chooseToken(logits, 0, 1, () => 0.99)).toBe(1);
    // top-p 0.5 keeps only the most likely token here (softmax mass of token 1 is ~0.55).
    for (const u of [0, 0.3, 0.7, 0.999]) expect(chooseToken(logits, 1, 0.5, () => u)).toBe(1);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(chooseToken(logits, 1, 1, () => i / 200));
    expect(seen).toEqual(new Set([0, 1, 2, 3]));
  });
});

describe('what the sampler reports for the standard inputs', () => {
  it('sum_v pi_v^2 per token lies in [pi_y^2, 1], and a completion is truncated exactly when it did not end with EOS', async () => {
    const { tf } = await useBackend('cpu');
    const run: Runner = { tf, backend: 'cpu' };
    const p = initPolicy(tf, config, 6);
    const r = rng(9);
    const s = await sampleCompletions(run, p, Int32Array.from([3, 7, 1]), { n: 8, temperature: 1, topP: 1, maxTokens: 3, uniform: r });
    let sawTruncated = false;
    for (let g = 0; g < 8; g++) {
      const len = s.lengths[g]!;
      for (let t = 0; t < len; t++) {
        const sq = s.sumPiSq[g * s.R + t]!;
        const py = Math.exp(s.logps[g * s.R + t]!);
        expect(sq).toBeLessThanOrEqual(1 + 1e-6);
        expect(sq).toBeGreaterThanOrEqual(py * py - 1e-6);
      }
      const endedWithEos = s.ids[g * s.R + len - 1] === EOS;
      expect(s.truncated[g]).toBe(!endedWithEos);
      if (s.truncated[g]) {
        sawTruncated = true;
        expect(len).toBe(3);
      }
    }
    expect(sawTruncated).toBe(true);
    disposePolicy(tf, p);
  });
});
