/** The batched and ragged decoders equal the per-prompt one; batched sampling is seeded and leak-free. */
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../../runtime/backends/index.js';
import type { Runner } from '../../../runtime/policy/model.js';
import { disposePolicy, initPolicy, type PolicyConfig } from '../../../runtime/policy/params.js';
import { Decoder } from '../../../runtime/policy/sample.js';
import { BatchDecoder, sampleBatch } from '../../../runtime/policy/sample-batch.js';
import { RaggedDecoder } from '../../../runtime/policy/decode-ragged.js';
import { rng } from '../../helpers/random-batch.js';
import { firstMiss } from '../../helpers/stdlib-harness.js';

const config: PolicyConfig = { vocab: 11, dModel: 16, nHeads: 4, nLayers: 2, dFF: 24, maxLen: 24 };

describe('batched sampling (cpu)', () => {
  it('gives every prompt, at every step, the logits of its own decoder (prompts of different lengths)', async () => {
    const { tf } = await useBackend('cpu');
    const run: Runner = { tf, backend: 'cpu' };
    const p = initPolicy(tf, config, 5);
    const before = tf.memory().numTensors;
    const prompts = [Int32Array.from([3, 7, 1, 9]), Int32Array.from([2, 5]), Int32Array.from([8, 4, 6, 3, 2, 7])];
    const G = 3;
    const steps = 6;
    const r = rng(8);
    const batch = new BatchDecoder(run, p, prompts, G);
    const own = prompts.map((x) => new Decoder(run, p, x, G));
    for (let t = 0; t < steps; t++) {
      const got = (await batch.next.data()) as Float32Array;
      for (const [b, dec] of own.entries()) {
        const want = (await dec.next.data()) as Float32Array;
        expect(firstMiss(got.subarray(b * G * config.vocab, (b + 1) * G * config.vocab), Array.from(want), 1e-5, 1), `prompt ${b}, step ${t}`).toBeNull();
      }
      const chosen = Int32Array.from({ length: prompts.length * G }, () => 3 + Math.floor(r() * 8));
      batch.feed(chosen);
      own.forEach((dec, b) => dec.feed(chosen.subarray(b * G, (b + 1) * G)));
    }
    batch.dispose();
    own.forEach((dec) => dec.dispose());
    expect(tf.memory().numTensors).toBe(before);
    disposePolicy(tf, p);
  });

  it('ragged decoding (cpu, wasm) gives every row its own decoder\'s logits, feeding fewer rows as they finish', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      const { tf } = await useBackend(backend);
      const run: Runner = { tf, backend };
      const p = initPolicy(tf, config, 5);
      const before = tf.memory().numTensors;
      const prompts = [Int32Array.from([3, 7, 1, 9]), Int32Array.from([2, 5]), Int32Array.from([8, 4, 6, 3, 2, 7])];
      const G = 3;
      // More than the 8 steps the caches start with: they grow.
      const steps = 11;
      const r = rng(8);
      const ragged = new RaggedDecoder(run, p, prompts, G, steps);
      const own = prompts.map((x) => new Decoder(run, p, x, G));
      let live = Int32Array.from({ length: prompts.length * G }, (_, i) => i);
      for (let t = 0; t < steps; t++) {
        expect(Array.from(ragged.rows)).toEqual(Array.from(live));
        const got = (await ragged.next.data()) as Float32Array;
        for (const [b, dec] of own.entries()) {
          const want = (await dec.next.data()) as Float32Array;
          live.forEach((i, k) => {
            if (Math.floor(i / G) !== b) return;
            const g = i % G;
            expect(firstMiss(got.subarray(k * config.vocab, (k + 1) * config.vocab), Array.from(want.subarray(g * config.vocab, (g + 1) * config.vocab)), 1e-5, 1), `${backend}: row ${i}, step ${t}`).toBeNull();
          });
        }
        const chosen = Int32Array.from({ length: prompts.length * G }, () => 3 + Math.floor(r() * 8));
        // From step 2 on, every other remaining row finishes (prompt 1 keeps one row to the end).
        if (t >= 2) live = live.filter((i, k) => k % 2 === 0 || i === 4);
        ragged.feed(Int32Array.from(live, (i) => chosen[i]!), live);
        own.forEach((dec, b) => dec.feed(chosen.subarray(b * G, (b + 1) * G)));
      }
      ragged.dispose();
      own.forEach((dec) => dec.dispose());
      expect(tf.memory().numTensors).toBe(before);
      disposePolicy(tf, p);
    }
  });

  it('is reproducible from a seed, varies with it, keeps forced starts and frees its tensors', async () => {
    const { tf } = await useBackend('cpu');
    const run: Runner = { tf, backend: 'cpu' };
    const p = initPolicy(tf, config, 6);
    const before = tf.memory().numTensors;
    const prompts = [Int32Array.from([4, 5, 6]), Int32Array.from([7]), Int32Array.from([3, 3, 8, 9, 10])];
    const forced = [[[5, 6], [], [], []], [[], [9], [], []], [[], [], [], [4, 4, 4]]];
    const opts = (seed: number) => ({ n: 4, temperature: 1.5, topP: 1, maxTokens: 8, uniform: rng(seed), forced });
    const a = await sampleBatch(run, p, prompts, opts(1));
    const b = await sampleBatch(run, p, prompts, opts(1));
    const c = await sampleBatch(run, p, prompts, opts(2));
    expect(a.map((x) => Array.from(x.ids))).toEqual(b.map((x) => Array.from(x.ids)));
    expect(a.map((x) => Array.from(x.ids))).not.toEqual(c.map((x) => Array.from(x.ids)));
    a.forEach((s, pi) => {
      expect(s.lengths).toHaveLength(4);
      s.lengths.forEach((len, g) => {
        const f = forced[pi]![g]!;
        expect(Array.from(s.ids.subarray(g * s.R, g * s.R + f.length))).toEqual(f);
        expect(len).toBeLessThanOrEqual(f.length + 8);
        expect(len).toBeGreaterThanOrEqual(f.length + 1);
        for (let t = 0; t < len; t++) expect(s.logps[g * s.R + t]!).toBeLessThanOrEqual(0);
        for (let t = 0; t < len; t++) expect(s.sumPiSq[g * s.R + t]!).toBeGreaterThan(0);
      });
      expect(s.truncated).toHaveLength(4);
    });
    expect(tf.memory().numTensors).toBe(before);
    disposePolicy(tf, p);
  });
});
