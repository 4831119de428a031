/**
 * The training loop of `rlp run`: rollout -> rewards -> old/ref log-probs -> the pipeline's loss
 * over micro-batches with global denominators -> Adam with clipping, with metrics as JSONL (TRL's
 * names), checkpoints that resume exactly, and a clean stop on interruption. The pieces live by
 * concern: options, settings (params and rollout), prompts, reward-fns, weights (init, save,
 * restore), rl-step and preference-step (one training step each), step-context (what they share).
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../backends/index.js';
import type { Runner } from '../policy/model.js';
import { initPolicy, policyVariables } from '../policy/params.js';
import { charTokenizer } from '../policy/tokenizer.js';
import { BUILTIN_REWARD_FNS } from '../rewards/builtins.js';
import { readRows } from '../data/jsonl.js';
import { declaredColumns } from '../rewards/module.js';
import { adamState } from './adam.js';
import { checkpointProblem, findCheckpoint, writeAtomic } from './checkpoint.js';
import { acquireLock, checkOutPath, createOutFolder, fsProblem, holdsARun, keptMetrics, writeMetrics } from './run-folder.js';
import type { CompiledProgram } from '../exec/program.js';
import type { PolicyConfig } from '../policy/params.js';
import { DEFAULT_REWARD_TIMEOUT_MS } from '../rewards/sandbox.js';
import type { RolloutSettings } from './collect.js';
import type { ResolvedRewards } from './reward-fns.js';
import { TrainError, type Metrics, type TrainOptions } from './options.js';
import { preferenceStep } from './preference-step.js';
import { promptSource, type PromptSource } from './prompts.js';
import { rewardFunctions } from './reward-fns.js';
import { trainStep } from './rl-step.js';
import { Rng } from './rng.js';
import { rolloutSettings } from './settings.js';
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
  const program = o.program;
  const params = new Map(program.values);
  for (const name of ['values', 'old_values']) {
    if (program.reads(name)) throw new TrainError(`\`${program.name}\` reads \`${name}\`, a critic's values: rlp run does not train a critic yet (use rlp eval with your own values)`);
  }
  for (const st of program.state) {
    if (st.dims.some((d) => d === 'B' || d === 'G' || d === 'T')) {
      throw new TrainError(`state \`${st.name}\` is over [${st.dims.join(', ')}]: rlp run carries only state without B, G or T from step to step (each step draws new prompts)`);
    }
  }
  const roll = rolloutSettings(program.rollout);
  const preference = roll === null;
  if (roll !== null && roll.continuations === 0 && (program.reads('value_start') || program.reads('value_end'))) {
    throw new TrainError(`\`${program.name}\` reads value_start/value_end, which its rollout computes only with continuations > 0`);
  }
  const rewards = await rewardFunctions(program, o.rewardsModule, o.rewardTimeoutMs);
  const needed = [...new Set([...rewards.values()].flatMap((r) => (r.source === 'built-in' ? BUILTIN_REWARD_FNS.find((b) => b.fn === r.fn)?.columns ?? [] : declaredColumns(r.fn))))];
  const tok = charTokenizer();
  const config = defaultPolicyConfig();
  // Everything is checked before the run folder is touched: a failed start leaves nothing behind.
  if (o.init !== null) checkInit(o.init);
  if (!o.resume) {
    checkOutPath(o.out);
    if (holdsARun(o.out)) throw new TrainError(`--out ${o.out} already holds a run: continue it with --resume ${o.out}, or choose another folder`);
  } else if (!existsSync(o.out)) throw new TrainError(`--resume: ${o.out} does not exist`);
  const found = o.resume ? findCheckpoint(o.out) : { dir: null, skipped: [] };
  const ck = found.dir;
  if (o.resume && ck === null) throw new TrainError(`--resume: ${o.out} holds no complete checkpoint` + (found.skipped.length > 0 ? ` (skipped ${found.skipped.join('; ')})` : ''));
  const resumed = ck === null ? null : checkpointState(ck);
  const source = await promptSource(o, resumed === null ? 0 : Number(resumed['cursor']), o.data !== null ? needed : [], preference);
  if (roll !== null && o.data !== null) await checkPromptLengths(o.data, roll, config);
  const backend = await useBackend(o.backend);
  if (!o.resume) createOutFolder(o.out);
  const release = o.dryRun ? () => {} : acquireLock(o.out, o.log);
  try {
    for (const why of found.skipped) o.log(`warning: skipping ${why}`);
    const configFile = join(o.out, 'config.json');
    const runConfig: Record<string, unknown> = {
      pipeline: program.name, file: program.file, params: Object.fromEntries(params), set: o.set, seed: o.seed,
      steps: o.steps, prompts: o.prompts, backend: o.backend, lr: o.lr, micro_batches: o.microBatches, epochs: o.epochs ?? 1, save_every: o.saveEvery,
      rollout: roll, policy: config, init: o.init, task: o.task?.name ?? null, task_size: o.task !== null ? o.taskSize ?? 0 : null, data: o.data, data_fingerprint: source.fingerprint,
      rewards: Object.fromEntries([...rewards].map(([k, v]) => [k, v.source])), rewards_module: o.rewardsModule, skip_nonfinite: o.skipNonfinite === true,
      reward_timeout_s: (o.rewardTimeoutMs ?? DEFAULT_REWARD_TIMEOUT_MS) / 1000, node: process.version,
      ...(o.dryRun ? { dry_run: true } : {}),
    };
    if (resumed !== null && existsSync(configFile)) {
      // The run's config stays; what a resume may change (steps, save-every, backend, reward timeout) is recorded.
      const before = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
      if (typeof before['data_fingerprint'] === 'string' && before['data_fingerprint'] !== source.fingerprint) {
        throw new TrainError(`--resume: the data changed since the run started (${o.data ?? 'the task'} no longer has the fingerprint in ${configFile})`);
      }
      const changes = Object.fromEntries(RESUMABLE.filter((k) => before[k] !== runConfig[k]).map((k) => [k, runConfig[k]]));
      const resumes = [...((before['resumes'] as unknown[] | undefined) ?? []), { at_step: Number(resumed['step']), ...changes }];
      writeAtomic(configFile, JSON.stringify({ ...before, ...changes, resumes }, null, 2) + '\n');
    } else writeAtomic(configFile, JSON.stringify(runConfig, null, 2) + '\n');
    if (o.dryRun) {
      o.log(`dry run: ${program.name} would train on ${o.task !== null ? `task ${o.task.name}${(o.taskSize ?? 0) > 0 ? ` (${o.taskSize} problems)` : ''}` : o.data} for ${o.steps} steps; config written to ${configFile}`);
      return [];
    }
    return await trainIn(o, { program, params, roll, rewards, tok, config, ck, source, backend });
  } catch (e) {
    throw fsProblem(`writing the run in ${o.out}`, e) ?? e;
  } finally {
    release();
  }
}

/** The config.json keys a resume may change. */
const RESUMABLE = ['steps', 'save_every', 'backend', 'reward_timeout_s'] as const;

/** The run state saved with a checkpoint (step, RNG, data cursor...), without loading its tensors. */
function checkpointState(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Record<string, unknown>;
}

/** `--init` must name a checkpoint (or a folder of them) that can be loaded. */
function checkInit(init: string): void {
  if (!existsSync(init)) throw new TrainError(`--init: ${init} does not exist`);
  if (findCheckpoint(init).dir === null && checkpointProblem(init) !== null) throw new TrainError(`--init: ${init} holds no complete checkpoint`);
}

/** Every dataset prompt must leave room for the rollout's completion in the policy's context (found by --dry-run too). */
async function checkPromptLengths(data: string, roll: RolloutSettings, config: PolicyConfig): Promise<void> {
  const room = config.maxLen - roll.maxTokens;
  if (room < 1) throw new TrainError(`max_tokens = ${roll.maxTokens} leaves no room for a prompt in the policy's context of ${config.maxLen} tokens`);
  const tok = charTokenizer();
  let i = 0;
  for await (const row of readRows(data, 0, false)) {
    i++;
    let n: number;
    try {
      n = 1 + tok.encode(String(row.prompt)).length;
    } catch (e) {
      throw new TrainError(`${data}: row ${i}'s prompt cannot be encoded: ${(e as Error).message}`);
    }
    if (n > room) throw new TrainError(`${data}: row ${i}'s prompt is ${n} tokens (with its start token); with max_tokens = ${roll.maxTokens}, the policy's context of ${config.maxLen} tokens leaves ${room} for a prompt`);
  }
}

interface Prepared {
  readonly program: CompiledProgram;
  readonly params: Map<string, number | boolean>;
  readonly roll: RolloutSettings | null;
  readonly rewards: ResolvedRewards;
  readonly tok: ReturnType<typeof charTokenizer>;
  readonly config: PolicyConfig;
  readonly ck: string | null;
  readonly source: PromptSource;
  readonly backend: Awaited<ReturnType<typeof useBackend>>;
}

/** The steps of a run whose folder is ready (created, locked, config written). */
async function trainIn(o: TrainOptions, p: Prepared): Promise<Metrics[]> {
  const { program, params, roll, rewards, tok, config, ck, source } = p;
  const { tf, info } = p.backend;
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
  const c: StepContext = { tf, run, program, policy, ref, vars, state, params, o, tok, pipelineState };
  const rng = new Rng(o.seed ^ 0x5eed);
  let start = 0;
  let tokensSeen = 0;
  const metricsFile = join(o.out, 'metrics.jsonl');
  if (ck !== null) {
    const st = restore(tf, policy, state, ck);
    start = Number(st['step']);
    rng.state = Number(st['rng']);
    tokensSeen = Number(st['num_tokens']);
    Object.assign(pipelineState, (st['pipeline_state'] as Record<string, HostValue> | undefined) ?? {});
    writeMetrics(metricsFile, keptMetrics(metricsFile, start, o.log));
    o.log(`resuming from ${ck} at step ${start}`);
  } else writeFileSync(metricsFile, '');
  keepSamplesUpTo(o.out, start);
  const all: Metrics[] = [];
  try {
    for (let step = start + 1; step <= o.steps; step++) {
      // Let signal handlers run between steps (the step itself may never yield to the event loop).
      await new Promise<void>((resolve) => setImmediate(resolve));
      const t0 = performance.now();
      const m = roll === null ? await preferenceStep(c, source, step - 1) : await trainStep(c, rng, source, rewards, roll, step - 1);
      tokensSeen += m['num_tokens']!;
      const metrics: Metrics = { step, ...m, num_tokens: tokensSeen, step_time: (performance.now() - t0) / 1000 };
      appendFileSync(metricsFile, JSON.stringify(metrics) + '\n');
      all.push(metrics);
      const headline = roll === null ? `accuracy ${(metrics['rewards/accuracies'] ?? NaN).toFixed(3)}  margin ${(metrics['rewards/margins'] ?? NaN).toFixed(3)}` : `reward ${metrics['reward']!.toFixed(3)}`;
      o.log(`step ${step}/${o.steps}  ${headline}  loss ${metrics['loss']!.toFixed(4)}  kl ${metrics['kl']!.toFixed(4)}  len ${metrics['completions/mean_length']!.toFixed(1)}  ${metrics['step_time']!.toFixed(1)}s`);
      await new Promise<void>((resolve) => setImmediate(resolve));
      const stop = o.stopRequested?.() === true;
      if (step % o.saveEvery === 0 || step === o.steps || stop) {
        await save(tf, o.out, step, policy, state, { step, rng: rng.state, cursor: source.cursor, num_tokens: tokensSeen, pipeline: program.name, pipeline_state: pipelineState });
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
