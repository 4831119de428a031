/**
 * The training loop of `rlp run`: rollout -> rewards -> old/ref log-probs -> the pipeline's loss
 * over micro-batches with global denominators -> Adam with clipping, with metrics as JSONL (TRL's
 * names), checkpoints that resume exactly, and a clean stop on interruption. The pieces live by
 * concern: options, settings (params and rollout), prompts, reward-fns, weights (init, save,
 * restore), rl-step and preference-step (one training step each), step-context (what they share).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../backends/index.js';
import type { Runner } from '../policy/model.js';
import { initPolicy, policyVariables } from '../policy/params.js';
import { charTokenizer } from '../policy/tokenizer.js';
import { BUILTIN_REWARD_FNS } from '../rewards/builtins.js';
import { declaredColumns } from '../rewards/module.js';
import { adamState } from './adam.js';
import { latestCheckpoint } from './checkpoint.js';
import { TrainError, type Metrics, type TrainOptions } from './options.js';
import { preferenceStep } from './preference-step.js';
import { promptSource } from './prompts.js';
import { rewardFunctions } from './reward-fns.js';
import { trainStep } from './rl-step.js';
import { Rng } from './rng.js';
import { resolveParams, rolloutSettings } from './settings.js';
import type { StepContext } from './step-context.js';
import type { HostValue } from './step.js';
import { defaultPolicyConfig, loadWeights, restore, save } from './weights.js';
import { keepSamplesUpTo } from './samples.js';

export { saveCheckpoint } from './checkpoint.js';
export { TrainError, type Metrics, type TrainOptions } from './options.js';
export { promptSource, taskIndex, wrongAnswer, type PromptSource } from './prompts.js';
export { defaultPolicyConfig, loadWeights, save } from './weights.js';

/** Run training; returns the metrics of the steps it ran. */
export async function train(o: TrainOptions): Promise<Metrics[]> {
  const g = o.pipeline.ir;
  const params = resolveParams(g, o.set);
  const reads = new Set(g.ordered().filter((n) => n.op === 'input').map((n) => String(n.attrs['name'])));
  for (const name of ['values', 'old_values']) {
    if (reads.has(name)) throw new TrainError(`\`${g.meta.pipeline}\` reads \`${name}\`, a critic's values: rlp run does not train a critic yet (use rlp eval with your own values)`);
  }
  for (const st of g.meta.state) {
    if (st.type.kind === 'tensor' && st.type.dims.some((d) => d === 'B' || d === 'G' || d === 'T')) {
      throw new TrainError(`state \`${st.name}\` is over [${st.type.dims.join(', ')}]: rlp run carries only state without B, G or T from step to step (each step draws new prompts)`);
    }
  }
  const roll = rolloutSettings(g, params, o.set);
  const preference = roll === null;
  if (roll !== null && roll.continuations === 0 && (reads.has('value_start') || reads.has('value_end'))) {
    throw new TrainError(`\`${g.meta.pipeline}\` reads value_start/value_end, which its rollout computes only with continuations > 0`);
  }
  const rewards = await rewardFunctions(g, o.rewardsModule);
  const needed = [...new Set([...rewards.values()].flatMap((r) => (r.source === 'built-in' ? BUILTIN_REWARD_FNS.find((b) => b.fn === r.fn)?.columns ?? [] : declaredColumns(r.fn))))];
  const tok = charTokenizer();
  const config = defaultPolicyConfig();
  mkdirSync(o.out, { recursive: true });
  const ck = o.resume ? latestCheckpoint(o.out) : null;
  if (o.resume && ck === null) throw new TrainError(`--resume: ${o.out} holds no complete checkpoint`);
  const source = await promptSource(o, 0, o.data !== null ? needed : [], preference);
  const runConfig = {
    pipeline: g.meta.pipeline, file: o.pipeline.file, params: Object.fromEntries(params), set: o.set, seed: o.seed,
    steps: o.steps, prompts: o.prompts, backend: o.backend, lr: o.lr, micro_batches: o.microBatches,
    rollout: roll, policy: config, init: o.init, task: o.task?.name ?? null, task_size: o.task !== null ? o.taskSize ?? 0 : null, data: o.data, data_fingerprint: source.fingerprint,
    rewards: Object.fromEntries([...rewards].map(([k, v]) => [k, v.source])), node: process.version,
  };
  writeFileSync(join(o.out, 'config.json'), JSON.stringify(runConfig, null, 2) + '\n');
  if (o.dryRun) {
    o.log(`dry run: ${g.meta.pipeline} would train on ${o.task !== null ? `task ${o.task.name}${(o.taskSize ?? 0) > 0 ? ` (${o.taskSize} problems)` : ''}` : o.data} for ${o.steps} steps; config written to ${join(o.out, 'config.json')}`);
    return [];
  }
  const { tf, info } = await useBackend(o.backend);
  const run: Runner = { tf, backend: info.name };
  const policy = initPolicy(tf, config, o.seed);
  const ref = initPolicy(tf, config, o.seed);
  if (o.init !== null) {
    const from = loadWeights(tf, policy, o.init);
    loadWeights(tf, ref, from);
    o.log(`starting from ${from}`);
  }
  const vars = policyVariables(policy);
  const state = adamState(tf, vars);
  // The pipeline's state variables, carried from step to step (their `update` block) and checkpointed.
  const pipelineState: Record<string, HostValue> = {};
  const c: StepContext = { tf, run, g, policy, ref, vars, state, params, o, tok, pipelineState };
  const rng = new Rng(o.seed ^ 0x5eed);
  let start = 0;
  let tokensSeen = 0;
  const metricsFile = join(o.out, 'metrics.jsonl');
  if (ck !== null) {
    const st = restore(tf, policy, state, ck);
    start = Number(st['step']);
    rng.state = Number(st['rng']);
    source.cursor = Number(st['cursor']);
    tokensSeen = Number(st['num_tokens']);
    Object.assign(pipelineState, (st['pipeline_state'] as Record<string, HostValue> | undefined) ?? {});
    const kept = existsSync(metricsFile) ? readFileSync(metricsFile, 'utf8').split('\n').filter((l) => l !== '' && (JSON.parse(l) as Metrics)['step']! <= start) : [];
    writeFileSync(metricsFile, kept.map((l) => l + '\n').join(''));
    o.log(`resuming from ${ck} at step ${start}`);
  } else writeFileSync(metricsFile, '');
  keepSamplesUpTo(o.out, start);
  const all: Metrics[] = [];
  try {
    for (let step = start + 1; step <= o.steps; step++) {
      const t0 = performance.now();
      const m = roll === null ? await preferenceStep(c, source, step - 1) : await trainStep(c, rng, source, rewards, roll, step - 1);
      tokensSeen += m['num_tokens']!;
      const metrics: Metrics = { step, ...m, num_tokens: tokensSeen, step_time: (performance.now() - t0) / 1000 };
      appendFileSync(metricsFile, JSON.stringify(metrics) + '\n');
      all.push(metrics);
      const headline = roll === null ? `accuracy ${(metrics['rewards/accuracies'] ?? NaN).toFixed(3)}  margin ${(metrics['rewards/margins'] ?? NaN).toFixed(3)}` : `reward ${metrics['reward']!.toFixed(3)}`;
      o.log(`step ${step}/${o.steps}  ${headline}  loss ${metrics['loss']!.toFixed(4)}  kl ${metrics['kl']!.toFixed(4)}  len ${metrics['completions/mean_length']!.toFixed(1)}  ${metrics['step_time']!.toFixed(1)}s`);
      const stop = o.stopRequested?.() === true;
      if (step % o.saveEvery === 0 || step === o.steps || stop) {
        await save(tf, o.out, step, policy, state, { step, rng: rng.state, cursor: source.cursor, num_tokens: tokensSeen, pipeline: g.meta.pipeline, pipeline_state: pipelineState });
      }
      if (stop) {
        o.log(`stopped after step ${step}; resume with --resume`);
        break;
      }
    }
  } finally {
    tf.dispose([...policyVariables(policy), ...policyVariables(ref), ...state.m, ...state.v]);
  }
  return all;
}
