/** The training step of a preference pipeline (DPO and its family) on chosen/rejected pairs. */
import { BOS, EOS, UnknownCharacter } from '../policy/tokenizer.js';
import { adamStep, ADAM_DEFAULTS } from './adam.js';
import { TrainError, type Metrics } from './options.js';
import type { PromptSource } from './prompts.js';
import { applyUpdates, meanStd, policyOnHost, type StepContext } from './step-context.js';
import { lossAndGrads, type RolloutBatch } from './step.js';

/**
 * A preference step (pipelines without a sample stage, e.g. dpo): each row's chosen and rejected
 * completions are G = 2 (index 0 chosen), scored under the policy and the reference policy.
 */
export async function preferenceStep(c: StepContext, source: PromptSource, stepIndex: number): Promise<Metrics> {
  const { tf, run, g, policy, ref, vars, state, params, o, tok, pipelineState } = c;
  const rows = await source.take(o.prompts);
  const enc = (text: string, what: string, i: number): number[] => {
    try {
      return [...tok.encode(text)];
    } catch (e) {
      if (e instanceof UnknownCharacter) throw new TrainError(`row ${source.cursor - rows.length + i}, ${what}: ${e.message}`);
      throw e;
    }
  };
  const prompts = rows.map((r, i) => Int32Array.from([BOS, ...enc(String(r['prompt']), 'prompt', i)]));
  const pairs = rows.map((r, i) => [[...enc(String(r['chosen']), 'chosen', i), EOS], [...enc(String(r['rejected']), 'rejected', i), EOS]]);
  const B = rows.length;
  const G = 2;
  const R = Math.max(...pairs.flat().map((c) => c.length));
  const completions = new Int32Array(B * G * R);
  const mask = new Float32Array(B * G * R);
  pairs.forEach((pair, b) => pair.forEach((c, gi) => {
    completions.set(c, (b * G + gi) * R);
    mask.fill(1, (b * G + gi) * R, (b * G + gi) * R + c.length);
  }));
  const oldLogp = (await policyOnHost(run, policy, { prompts, completions, G, R }, mask)).logp;
  const refLogp = (await policyOnHost(run, ref, { prompts, completions, G, R }, mask)).logp;
  const batch: RolloutBatch = { B, G, R, prompts, completions, mask, oldLogp, refLogp, perCompletion: {}, step: stepIndex };
  const { loss, grads, updates } = await lossAndGrads(run, g, policy, batch, params, B % o.microBatches === 0 ? o.microBatches : 1, pipelineState);
  const stateMetrics = applyUpdates(pipelineState, updates);
  const gradNorm = await adamStep(tf, vars, grads, state, { ...ADAM_DEFAULTS, lr: o.lr });
  tf.dispose(grads);
  // TRL's reported implicit rewards, before this step's update: beta x summed log-ratio.
  const beta = Number(params.get('beta') ?? 0.1);
  const u = (s: number): number => {
    let acc = 0;
    for (let t = 0; t < R; t++) acc += (oldLogp[s * R + t]! - refLogp[s * R + t]!) * mask[s * R + t]!;
    return beta * acc;
  };
  const chosen = Array.from({ length: B }, (_, b) => u(b * G));
  const rejected = Array.from({ length: B }, (_, b) => u(b * G + 1));
  const n = mask.reduce((a, x) => a + x, 0);
  return {
    loss, 'rewards/chosen': meanStd(chosen)[0], 'rewards/rejected': meanStd(rejected)[0],
    'rewards/accuracies': chosen.filter((c, b) => c > rejected[b]!).length / B, 'rewards/margins': meanStd(chosen.map((c, b) => c - rejected[b]!))[0],
    kl: 0, 'completions/mean_length': n / (B * G), grad_norm: gradNorm, learning_rate: o.lr, num_tokens: n, ...stateMetrics,
  };
}
