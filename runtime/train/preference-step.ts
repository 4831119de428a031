/** The training step of a preference pipeline (DPO and its family) on chosen/rejected pairs. */
import { BOS, EOS, UnknownCharacter } from '../policy/tokenizer.js';
import { adamStep, ADAM_DEFAULTS } from './adam.js';
import { TrainError, type Metrics } from './options.js';
import type { PromptSource } from './prompts.js';
import { appendSamples, pairSamples } from './samples.js';
import { preferenceMetrics } from './preference-metrics.js';
import { applyUpdates, policyOnHost, type StepContext, skipNonfinite } from './step-context.js';
import { lossAndGrads, type RolloutBatch } from './step.js';

/**
 * A preference step (pipelines without a sample stage, e.g. dpo): each row's chosen and rejected
 * completions are G = 2 (index 0 chosen), scored under the policy and the reference policy.
 */
export async function preferenceStep(c: StepContext, source: PromptSource, stepIndex: number): Promise<Metrics> {
  const { tf, run, program, policy, ref, vars, state, params, o, tok, pipelineState } = c;
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
  const lengths = Int32Array.from(pairs.flat(), (c) => c.length);
  pairs.forEach((pair, b) => pair.forEach((c, gi) => {
    completions.set(c, (b * G + gi) * R);
    mask.fill(1, (b * G + gi) * R, (b * G + gi) * R + c.length);
  }));
  const oldLogp = (await policyOnHost(run, policy, { prompts, completions, G, R, lengths }, mask)).logp;
  const refLogp = (await policyOnHost(run, ref, { prompts, completions, G, R, lengths }, mask)).logp;
  const batch: RolloutBatch = { B, G, R, prompts, completions, lengths, mask, oldLogp, refLogp, perCompletion: {}, step: stepIndex };
  const { loss, grads, updates } = await lossAndGrads(run, program, policy, batch, params, B % o.microBatches === 0 ? o.microBatches : 1, pipelineState);
  const gradNorm = Number.isFinite(loss) ? await adamStep(tf, vars, grads, state, { ...ADAM_DEFAULTS, lr: o.lr }) : NaN;
  tf.dispose(grads);
  const skipped = skipNonfinite(o, stepIndex + 1, loss, gradNorm);
  const stateMetrics = skipped ? {} : applyUpdates(pipelineState, updates);
  // TRL's implicit reward of each completion before this step's update (beta x summed log-ratio), for the samples table.
  const beta = Number(params.get('beta') ?? 0.1);
  const u = (s: number): number => {
    let acc = 0;
    for (let t = 0; t < R; t++) acc += (oldLogp[s * R + t]! - refLogp[s * R + t]!) * mask[s * R + t]!;
    return beta * acc;
  };
  appendSamples(o.out, pairSamples(stepIndex + 1, rows, u));
  // What the pipeline itself binds (chosen_reward, rejected_reward, margin) before this update, and a measured KL.
  const reported = await preferenceMetrics(tf, run.backend, program, params, { B, G, R, logp: oldLogp, refLogp, mask });
  const n = mask.reduce((a, x) => a + x, 0);
  return {
    loss, ...reported, 'completions/mean_length': n / (B * G), grad_norm: gradNorm, learning_rate: o.lr, num_tokens: n, ...stateMetrics,
    no_update: skipped || gradNorm === 0 ? 1 : 0, ...(skipped ? { skipped_nonfinite: 1 } : {}),
  };
}
