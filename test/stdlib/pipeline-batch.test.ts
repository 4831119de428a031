/**
 * The shared batch helper every all-pipeline test builds on (test/helpers/pipeline-batch.ts): on a
 * pipeline it was never told about, it feeds what the IR reads with valid values and sizes.
 */
import { describe, expect, it } from 'vitest';
import { memoryHost } from '../../compiler/bind/host.js';
import { compileFiles } from '../../compiler/compile.js';
import { makeSource, span } from '../../grammar/source.js';
import { useBackend } from '../../runtime/backends/index.js';
import { evaluate } from '../../runtime/eval/evaluate.js';
import { validateBatch } from '../../runtime/eval/validate.js';
import { batchJson, defaultShape, pipelineBatch } from '../helpers/pipeline-batch.js';
import { stdlibPipeline } from '../helpers/stdlib-harness.js';

const PROBE = `
dim K "reward components"
dim P "the dataset's prompts"

pipeline probe {
  params {
    k: float in [0, 4] "a param without a default"
  }
  inputs {
    scores: f32[B,G,K] "one score per component"
    prompt: f32[B,P] "one-hot: which prompt"
    calls: f32[B,G] "number of tool calls"
    iter_logp: f32[B,G,T] "log-probabilities under the previous iterate"
  }
  reward { reward = correct + scores[K=4] + sum(prompt, over P) - calls / 10 }
  loss {
    minimize mean(sum((logp - iter_logp) * k, over T, where mask) * reward, over [B, G])
  }
}
`;
const here = span(makeSource('batch', ''), 0, 0);
const probe = compileFiles(['/w/probe.rlp'], { host: memoryHost({ '/w/probe.rlp': PROBE }) }).pipelines[0]!;

describe('pipelineBatch', () => {
  it('feeds a new pipeline\'s declared inputs, reward functions and dims, and sets the params it needs', async () => {
    const b = pipelineBatch(probe, { seed: 4 });
    const by = new Map(b.entries.map((e) => [e.name, e.tensor]));
    expect([...by.keys()].sort()).toEqual(['calls', 'iter_logp', 'logp', 'mask', 'prompt', 'reward_fn.correct', 'scores']);
    // K is taken at index 4: it gets 5 entries; P the default 3.
    expect(by.get('scores')!.shape).toEqual([2, 4, 5]);
    expect(by.get('prompt')!.shape).toEqual([2, 3]);
    // One-hot rows, integer counts, log-probs padded like logp.
    for (let i = 0; i < 2; i++) expect(Array.from(by.get('prompt')!.data.slice(3 * i, 3 * i + 3)).sort()).toEqual([0, 0, 1]);
    expect(Array.from(by.get('calls')!.data).every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
    const mask = by.get('mask')!.data;
    by.get('iter_logp')!.data.forEach((v, i) => expect(mask[i] === 1 ? v < 0 : v === 1e4).toBe(true));
    expect(b.set).toEqual({ k: '2' });
    const v = validateBatch(probe.raw, b.entries, { set: b.set, grad: ['logp'], allowNonfinite: false, fileSpan: here });
    expect(v.diagnostics).toEqual([]);
    const { tf } = await useBackend('cpu');
    const out = await evaluate(tf, 'cpu', v.valid!, ['logp']);
    expect(Number.isFinite(out['loss']!.data[0])).toBe(true);
  });

  it('gives preference pipelines pairs, groups of 4 to the others, and `group` its G', () => {
    expect(defaultShape(stdlibPipeline('dpo'))).toEqual({ B: 3, G: 2, T: 5 });
    expect(defaultShape(stdlibPipeline('grpo'))).toEqual({ B: 2, G: 4, T: 6 });
    expect(pipelineBatch(stdlibPipeline('grpo'), { seed: 1 }).set).toEqual({ group: '4' });
    expect(pipelineBatch(stdlibPipeline('dpo'), { seed: 1 }).set).toEqual({});
  });

  it('is deterministic in its seed, takes overrides, and writes an rlp eval batch file', () => {
    const p = stdlibPipeline('gdpo');
    expect(batchJson(pipelineBatch(p, { seed: 3 }))).toEqual(batchJson(pipelineBatch(p, { seed: 3 })));
    expect(batchJson(pipelineBatch(p, { seed: 3 }))).not.toEqual(batchJson(pipelineBatch(p, { seed: 4 })));
    const b = pipelineBatch(p, { seed: 3, dims: { K: 2 }, feeds: { reward_weights: { shape: [2], data: Float64Array.of(1, 0.5) } } });
    const json = batchJson(b);
    expect(json['rewards']!.shape).toEqual([2, 4, 2]);
    expect(json['reward_weights']).toEqual({ shape: [2], data: [1, 0.5] });
  });
});
