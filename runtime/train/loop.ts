/**
 * The training loop of `rlp run`: rollout -> rewards -> old/ref log-probs -> the pipeline's loss
 * over micro-batches with global denominators -> Adam with clipping, with metrics as JSONL (TRL's
 * names), checkpoints that resume exactly, and a clean stop on interruption.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompiledPipeline } from '../../compiler/compile.js';
import type { IrGraph } from '../../compiler/ir/graph.js';
import { opByName } from '../../compiler/ops/index.js';
import { useBackend, type BackendName } from '../backends/index.js';
import type { TFModule } from '../backends/tf.js';
import { readRows, validateDataset } from '../data/jsonl.js';
import { parseParam } from '../eval/validate.js';
import type { Runner } from '../policy/model.js';
import { initPolicy, localName, policyVariables, type PolicyConfig, type PolicyParams } from '../policy/params.js';
import { sampleCompletions } from '../policy/sample.js';
import { BOS, charTokenizer, EOS, UnknownCharacter } from '../policy/tokenizer.js';
import { BUILTIN_REWARD_FNS, type RewardFn } from '../rewards/builtins.js';
import { declaredColumns, loadRewardModule, score } from '../rewards/module.js';
import type { Task } from '../tasks/index.js';
import { adamState, adamStep, ADAM_DEFAULTS, type AdamState } from './adam.js';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
export { saveCheckpoint };
import { clipRatios } from './clip.js';
import { Rng } from './rng.js';
import { evalRewardStage, groupRewards, hintGroups, sampleGroup, scoreGroups, segmentValues, type Group, type RolloutSettings, type SampleContext } from './collect.js';
import { lossAndGrads, policyOutputs, worthSharing, type HostValue, type RolloutBatch } from './step.js';
import { buildPlan, feedableNames, readsInput } from '../exec/plan.js';
import { runPlan } from '../exec/executor.js';
import type * as tfc from '@tensorflow/tfjs-core';

/** A problem with the run's setup or data: a user error with a clear message. */
export class TrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainError';
  }
}

/** What `rlp run` asks for. */
export interface TrainOptions {
  readonly pipeline: CompiledPipeline;
  readonly task: Task | null;
  /** A built-in task's training set: rows 0..taskSize-1 of its seeded stream, cycled; 0: the endless stream. */
  readonly taskSize?: number;
  readonly data: string | null;
  readonly steps: number;
  readonly prompts: number;
  readonly backend: BackendName;
  readonly seed: number;
  readonly out: string;
  readonly set: Readonly<Record<string, string>>;
  readonly resume: boolean;
  readonly rewardsModule: string | null;
  readonly lr: number;
  readonly saveEvery: number;
  readonly microBatches: number;
  /** Optimizer passes over each rollout batch (PPO's epochs; the clip keeps later passes close). */
  readonly epochs?: number;
  readonly dryRun: boolean;
  /** Start from these weights (an `rlp sft` run or a checkpoint folder); they are also the reference policy. */
  readonly init: string | null;
  readonly log: (line: string) => void;
  /** Checked between steps: when true, the loop saves and stops. */
  readonly stopRequested?: () => boolean;
}

/** One line of metrics.jsonl. */
export type Metrics = Record<string, number>;

/** The default policy: a small character-level transformer (prompt + completion up to 96 tokens). */
export function defaultPolicyConfig(): PolicyConfig {
  return { vocab: charTokenizer().vocabSize, dModel: 48, nHeads: 4, nLayers: 2, dFF: 96, maxLen: 96 };
}

/** Load the weights of the latest complete checkpoint in `dir` into a policy (optimizer state not). */
export function loadWeights(tf: TFModule, p: PolicyParams, dir: string): string {
  const ck = latestCheckpoint(dir) ?? (isCheckpointDir(dir) ? dir : null);
  if (ck === null) throw new TrainError(`--init: ${dir} holds no complete checkpoint`);
  const c = loadCheckpoint(ck);
  for (const v of policyVariables(p)) {
    const w = c.weights[localName(v)];
    if (w === undefined || w.shape.join(',') !== v.shape.join(',')) {
      throw new TrainError(`--init: ${ck} does not fit this policy (\`${localName(v)}\` is missing or has another shape)`);
    }
    v.assign(tf.tensor(w.data, [...w.shape]));
  }
  return ck;
}

function isCheckpointDir(dir: string): boolean {
  return existsSync(join(dir, 'manifest.json'));
}

function resolveParams(g: IrGraph, set: Readonly<Record<string, string>>): Map<string, number | boolean> {
  const out = new Map<string, number | boolean>();
  for (const p of g.meta.params) if (typeof p.default === 'number' || typeof p.default === 'boolean') out.set(p.name, p.default);
  for (const [k, raw] of Object.entries(set)) {
    const p = g.meta.params.find((x) => x.name === k);
    if (p === undefined) throw new TrainError(`\`${k}\` is not a param of \`${g.meta.pipeline}\`; its params are ${g.meta.params.map((x) => x.name).join(', ')}`);
    if (p.type === 'choice') continue; // picked and checked at compile time
    const v = parseParam(p.type, raw);
    if (v === null) throw new TrainError(`param \`${k}\` is \`${p.type}\`, but \`${raw}\` is not one`);
    if (typeof v !== 'string') out.set(k, v);
  }
  return out;
}

/** Evaluate a scalar node made of constants, params and elementwise ops (the rollout's settings). */
function scalarValue(g: IrGraph, id: number, params: ReadonlyMap<string, number | boolean>): number {
  const n = g.node(id);
  if (n.op === 'const') return Number(n.attrs['value']);
  if (n.op === 'param') return Number(params.get(String(n.attrs['name'])));
  const op = opByName(n.op);
  if (op?.scalar === undefined) throw new TrainError(`the sample stage's settings must be constants or params, found \`${n.op}\``);
  return op.scalar(...n.inputs.map((i) => scalarValue(g, i, params)));
}

/** The rollout settings of the pipeline's sample stage (see the `rollout` op), checked. */
function rolloutSettings(g: IrGraph, params: ReadonlyMap<string, number | boolean>, set: Readonly<Record<string, string>>): RolloutSettings | null {
  const r = g.ordered().find((n) => n.op === 'rollout');
  if (r === undefined) return null;
  const num = (i: number): number => scalarValue(g, r.inputs[i]!, params);
  const str = (i: number): string => stringValue(g, r.inputs[i]!, set);
  const s: RolloutSettings = {
    n: num(0), temperature: num(1), topP: num(2), maxTokens: num(3), dynamic: num(4) === 1, stop: str(5),
    suffixes: str(6) === '' ? [] : str(6).split('|'), reset: num(7), resetFrom: str(8), hintFrom: str(9), hintText: str(10),
    continuations: num(11), segment: num(12),
  };
  if (s.suffixes.length > 0 && s.n % s.suffixes.length !== 0) {
    throw new TrainError(`the rollout's ${s.suffixes.length} suffixes split its n = ${s.n} samples into equal subgroups: n must be a multiple of ${s.suffixes.length}`);
  }
  if (!(s.reset >= 0 && s.reset <= 1)) throw new TrainError(`the rollout's reset is a probability, found ${s.reset}`);
  if (s.continuations < 0 || s.segment < 1) throw new TrainError(`the rollout's continuations must be >= 0 and segment >= 1, found ${s.continuations} and ${s.segment}`);
  return s;
}

/** A string setting: a literal, or a string param (its --set value or default). */
function stringValue(g: IrGraph, id: number, set: Readonly<Record<string, string>>): string {
  const n = g.node(id);
  if (n.op === 'const' && typeof n.attrs['value'] === 'string') return n.attrs['value'];
  if (n.op === 'param') {
    const name = String(n.attrs['name']);
    const p = g.meta.params.find((x) => x.name === name);
    return set[name] ?? (typeof p?.default === 'string' ? p.default : '');
  }
  throw new TrainError(`the sample stage's stop must be a string literal or a string param, found \`${n.op}\``);
}

/** The prompt rows of a step, from the task or the dataset. */
export interface PromptSource {
  take(count: number): Promise<Record<string, unknown>[]>;
  cursor: number;
  readonly fingerprint: string;
}

export async function promptSource(o: TrainOptions, cursor: number, needed: readonly string[], preference: boolean): Promise<PromptSource> {
  if (o.data !== null) {
    const info = await validateDataset(o.data);
    if (!preference && info.kind !== 'prompt') throw new TrainError(`${o.data} holds preference rows; \`rlp run ${o.pipeline.name}\` samples completions and needs prompt rows`);
    if (preference && info.kind !== 'preference') throw new TrainError(`${o.data} holds prompt rows; \`${o.pipeline.name}\` has no sample stage and trains on preference rows {"prompt", "chosen", "rejected"}`);
    if (needed.length > 0) await validateDataset(o.data, needed);
    const rows = readRows(o.data, cursor);
    const src: PromptSource = {
      cursor,
      fingerprint: createHash('sha256').update(readFileSync(o.data)).digest('hex'),
      async take(count) {
        const out: Record<string, unknown>[] = [];
        for (let i = 0; i < count; i++) out.push({ ...(await rows.next()).value! });
        src.cursor += count;
        return out;
      },
    };
    return src;
  }
  const task = o.task!;
  const size = o.taskSize ?? 0;
  const src: PromptSource = {
    cursor,
    fingerprint: `task:${task.name}:seed${o.seed}` + (size > 0 ? `:size${size}` : ''),
    async take(count) {
      const out = Array.from({ length: count }, (_, i) => {
        const k = taskIndex(src.cursor + i, size);
        const row = task.row(o.seed, k);
        if (preference) return { prompt: row.prompt, chosen: row.answer, rejected: wrongAnswer(row.answer, o.seed, k) };
        return { prompt: row.prompt, answer: row.answer, format: task.format.source };
      });
      src.cursor += count;
      return out;
    },
  };
  return src;
}

/** The row of a built-in task that draw number `i` reads: the task's stream, cycled over its first `size` rows (0: not cycled). */
export function taskIndex(i: number, size: number): number {
  return size > 0 ? i % size : i;
}

/** A plausible wrong answer: the right one with one digit changed (the built-in preference task). */
export function wrongAnswer(answer: string, seed: number, i: number): string {
  const r = new Rng(seed * 7919 + i * 104729 + 1);
  const k = Math.floor(r.next() * answer.length);
  const d = Number(answer[k]);
  const other = Number.isNaN(d) ? '0' : String((d + 1 + Math.floor(r.next() * 9)) % 10);
  return answer.slice(0, k) + other + answer.slice(k + 1);
}

/** The reward functions a pipeline reads (its reward stage's names), resolved. */
async function rewardFunctions(g: IrGraph, module: string | null): Promise<Map<string, { fn: RewardFn; source: string }>> {
  let names = [...new Set(g.ordered().filter((n) => n.op === 'reward_fn').map((n) => String(n.attrs['name'])))];
  // A sampling pipeline without a reward stage (it reads `reward` or `token_reward` directly) is
  // scored with the built-in `correct`, or a --rewards module's default export.
  if (names.length === 0 && g.ordered().some((n) => n.op === 'rollout')) names = [module !== null && (await loadRewardModule(module)).has('reward') ? 'reward' : 'correct'];
  const user = module === null ? new Map<string, RewardFn>() : await loadRewardModule(module);
  const out = new Map<string, { fn: RewardFn; source: string }>();
  for (const name of names) {
    const u = user.get(name);
    const b = BUILTIN_REWARD_FNS.find((x) => x.name === name);
    if (u !== undefined) out.set(name, { fn: u, source: module! });
    else if (b !== undefined) out.set(name, { fn: b.fn, source: 'built-in' });
    else throw new TrainError(`the reward stage names \`${name}\`, which is neither a built-in reward nor exported by ${module ?? 'a --rewards module'}`);
  }
  return out;
}

function restore(tf: TFModule, p: PolicyParams, state: AdamState, dir: string): Record<string, unknown> {
  const c = loadCheckpoint(dir);
  const vars = policyVariables(p);
  for (const v of vars) {
    const w = c.weights[localName(v)];
    if (w === undefined) throw new TrainError(`${dir} has no weights for \`${localName(v)}\`: it was made by another policy configuration`);
    v.assign(tf.tensor(w.data, [...w.shape]));
  }
  state.step = c.optimizer.step;
  vars.forEach((_, i) => {
    tf.dispose([state.m[i]!, state.v[i]!]);
    state.m[i] = tf.tensor(c.optimizer.m[i]!.data, [...c.optimizer.m[i]!.shape]);
    state.v[i] = tf.tensor(c.optimizer.v[i]!.data, [...c.optimizer.v[i]!.shape]);
  });
  return c.state;
}

/** Save a policy and its optimizer as checkpoint `step` under `out`. */
export async function save(tf: TFModule, out: string, step: number, p: PolicyParams, state: AdamState, extra: Record<string, unknown>): Promise<void> {
  const vars = policyVariables(p);
  const host = async (t: { data(): Promise<unknown>; shape: number[] }) => ({ shape: t.shape, data: Float32Array.from((await t.data()) as Float32Array) });
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const v of vars) weights[localName(v)] = await host(v);
  void tf;
  saveCheckpoint(out, {
    step,
    weights,
    optimizer: { step: state.step, m: await Promise.all(state.m.map(host)), v: await Promise.all(state.v.map(host)) },
    state: extra,
  });
}

function meanStd(xs: ArrayLike<number>): [number, number] {
  const n = xs.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i]!;
  const m = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (xs[i]! - m) ** 2;
  return [m, n > 1 ? Math.sqrt(v / (n - 1)) : 0];
}

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
  const all: Metrics[] = [];
  try {
    for (let step = start + 1; step <= o.steps; step++) {
      const t0 = performance.now();
      const m = roll === null
        ? await preferenceStep(tf, run, g, policy, ref, vars, state, source, params, o, tok, pipelineState, step - 1)
        : await trainStep(tf, run, g, policy, ref, vars, state, rng, source, rewards, roll, params, o, tok, pipelineState, step - 1);
      tokensSeen += m['num_tokens']!;
      const metrics: Metrics = { step, ...m, num_tokens: tokensSeen, step_time: (performance.now() - t0) / 1000 };
      appendFileSync(metricsFile, JSON.stringify(metrics) + '\n');
      all.push(metrics);
      const headline = roll === null ? `accuracy ${metrics['rewards/accuracies']!.toFixed(3)}  margin ${metrics['rewards/margins']!.toFixed(3)}` : `reward ${metrics['reward']!.toFixed(3)}`;
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

async function trainStep(
  tf: TFModule, run: Runner, g: IrGraph, policy: PolicyParams, ref: PolicyParams, vars: ReturnType<typeof policyVariables>, state: AdamState,
  rng: Rng, source: PromptSource, rewards: Map<string, { fn: RewardFn; source: string }>, roll: RolloutSettings,
  params: Map<string, number | boolean>, o: TrainOptions, tok: ReturnType<typeof charTokenizer>, pipelineState: Record<string, HostValue>, stepIndex: number,
): Promise<Metrics> {
  const G = roll.n;
  const ctx: SampleContext = { tf, run, g, policy, rng, rewards, roll, params, tok, userError: (m) => new TrainError(m), state: pipelineState };
  const { groups, rounds, dropped, hinted } = await collectGroups(ctx, source, o);
  const rows = groups.map((x) => x.row);
  const prompts = groups.map((x) => x.prompt);
  const R = Math.max(...groups.map((x) => x.sample.R));
  const B = prompts.length;
  const completions = new Int32Array(B * G * R);
  // mask: the tokens the policy chose; forced: the ones the sampler put there (suffix, hint, roll-in).
  const mask = new Float32Array(B * G * R);
  const forced = new Float32Array(B * G * R);
  groups.forEach(({ sample: s, forced: f }, b) => {
    for (let gi = 0; gi < G; gi++) {
      const len = s.lengths[gi]!;
      const at = (b * G + gi) * R;
      completions.set(s.ids.subarray(gi * s.R, gi * s.R + len), at);
      forced.fill(1, at, at + f[gi]!);
      mask.fill(1, at + f[gi]!, at + len);
    }
  });
  const perCompletion: Record<string, Float32Array> = {};
  const perPrompt: Record<string, Float32Array> = {};
  const perToken: Record<string, Float32Array> = { forced };
  const metrics: Metrics = {};
  for (const name of rewards.keys()) {
    perCompletion[`reward_fn.${name}`] = Float32Array.from(groups.flatMap((x) => Array.from(x.scores[name]!)));
    metrics[`rewards/${name}/mean`] = meanStd(perCompletion[`reward_fn.${name}`]!)[0];
    for (const k of Object.keys(groups[0]?.extras[name] ?? {})) metrics[`rewards/${name}/${k}`] = meanStd(groups.flatMap((x) => x.extras[name]![k] ?? []))[0];
  }
  perCompletion['variant'] = Float32Array.from(groups.flatMap((x) => x.variant));
  // The reward stage's value per completion, evaluated once when something below needs it.
  let stageReward: Float32Array | null = null;
  const rewardOf = async (): Promise<Float32Array> => (stageReward ??= await groupRewards(ctx, groups));
  const hasRewardStage = g.outputs.some((x) => x.name.startsWith('reward.'));
  if (readsInput(g, 'token_reward') || (readsInput(g, 'reward') && !hasRewardStage)) {
    const reward = await rewardOf();
    if (!hasRewardStage) perCompletion['reward'] = reward;
    // As verl places an outcome reward: on the completion's last token.
    const tokenReward = new Float32Array(B * G * R);
    groups.forEach((x, b) => {
      for (let gi = 0; gi < G; gi++) {
        const len = x.sample.lengths[gi]!;
        if (len > x.forced[gi]!) tokenReward[(b * G + gi) * R + len - 1] = reward[b * G + gi]!;
      }
    });
    perToken['token_reward'] = tokenReward;
  }
  perPrompt['hint_level'] = Float32Array.from(groups.map((x) => x.hintLevel));
  if (roll.hintFrom !== '') {
    metrics['hints/groups'] = hinted;
    metrics['hints/mean_level'] = meanStd(perPrompt['hint_level'])[0];
  }
  if (roll.continuations > 0) {
    const v = await segmentValues(ctx, groups, await rewardOf(), R);
    perToken['value_start'] = v.start;
    perToken['value_end'] = v.end;
    metrics['spo/continuations'] = v.sampled;
  }
  const forcedCount = forced.reduce((a, x) => a + x, 0);
  if (forcedCount > 0) metrics['completions/mean_forced'] = forcedCount / (B * G);
  if (roll.dynamic) {
    metrics['dynamic/rounds'] = rounds;
    metrics['dynamic/dropped_groups'] = dropped;
  }
  const current = await policyOnHost(run, policy, { prompts, completions, G, R }, mask, true);
  const oldLogp = current.logp;
  const refLogp = (await policyOnHost(run, ref, { prompts, completions, G, R }, mask)).logp;
  metrics['entropy'] = current.entropy;
  if (feedableNames(g).has('greedy_reward')) {
    perPrompt['greedy_reward'] = await greedyRewards(tf, run, g, policy, prompts, rows, rewards, roll, params, tok, pipelineState);
    metrics['greedy_reward'] = meanStd(perPrompt['greedy_reward'])[0];
  }
  const batch: RolloutBatch = { B, G, R, prompts, completions, mask, oldLogp, refLogp, perCompletion, perPrompt, perToken, step: stepIndex };
  const parts = B % o.microBatches === 0 ? o.microBatches : 1;
  let first: Awaited<ReturnType<typeof lossAndGrads>> | null = null;
  let gradNorm = 0;
  const clipLow = params.get('clip_low');
  const clipHigh = params.get('clip_high');
  const clips: { low: number; high: number; region: number }[] = [];
  for (let epoch = 0; epoch < (o.epochs ?? 1); epoch++) {
    const pass = await lossAndGrads(run, g, policy, batch, params, parts, pipelineState);
    const norm = await adamStep(tf, vars, pass.grads, state, { ...ADAM_DEFAULTS, lr: o.lr });
    tf.dispose(pass.grads);
    if (first === null) {
      first = pass;
      gradNorm = norm;
    }
    const A = pass.shared['advantage.A'];
    const aType = A === undefined ? undefined : g.node(g.outputs.find((x) => x.name === 'advantage.A')!.node).type;
    if (pass.ratio !== undefined && A !== undefined && aType?.kind === 'tensor' && typeof clipLow === 'number' && typeof clipHigh === 'number') {
      clips.push(clipRatios(pass.ratio, { values: A, dims: aType.dims }, mask, R, clipLow, clipHigh));
    }
  }
  Object.assign(metrics, applyUpdates(pipelineState, first!.updates));
  if (clips.length > 0) {
    // TRL logs the mean over the passes of a step (its gradient-accumulation steps and iterations).
    metrics['clip_ratio/low_mean'] = clips.reduce((a, c) => a + c.low, 0) / clips.length;
    metrics['clip_ratio/high_mean'] = clips.reduce((a, c) => a + c.high, 0) / clips.length;
    metrics['clip_ratio/region_mean'] = clips.reduce((a, c) => a + c.region, 0) / clips.length;
  }
  const { loss, shared } = first!;
  const reward = shared['reward.reward'] ?? perCompletion[Object.keys(perCompletion)[0] ?? ''] ?? new Float32Array(B * G);
  const [rMean, rStd] = meanStd(reward);
  let zeroStd = 0;
  for (let b = 0; b < B; b++) if (meanStd(reward.subarray(b * G, (b + 1) * G))[1] === 0) zeroStd++;
  let kl = 0;
  let n = 0;
  mask.forEach((mv, i) => {
    if (mv === 0) return;
    const d = refLogp[i]! - oldLogp[i]!;
    kl += Math.exp(d) - d - 1;
    n++;
  });
  // Shared-prefix accounting: with sharing (decided for the batch, as policyOutputs does) each
  // prompt is encoded once for its G completions.
  const raw = prompts.reduce((a, p) => a + G * (p.length + R), 0);
  const shares = worthSharing(prompts.reduce((a, p) => a + p.length, 0) / B, G, R);
  const packed = shares ? prompts.reduce((a, p) => a + p.length + G * R, 0) : raw;
  return {
    loss, reward: rMean, reward_std: rStd, ...metrics, frac_reward_zero_std: zeroStd / B, kl: n > 0 ? kl / n : 0,
    'completions/mean_length': n / (B * G), grad_norm: gradNorm, learning_rate: o.lr, num_tokens: n,
    'prefix/raw_tokens': raw, 'prefix/packed_tokens': packed, 'prefix/shared_ratio': 1 - packed / raw,
  };
}

/**
 * A preference step (pipelines without a sample stage, e.g. dpo): each row's chosen and rejected
 * completions are G = 2 (index 0 chosen), scored under the policy and the reference policy.
 */
async function preferenceStep(
  tf: TFModule, run: Runner, g: IrGraph, policy: PolicyParams, ref: PolicyParams, vars: ReturnType<typeof policyVariables>, state: AdamState,
  source: PromptSource, params: Map<string, number | boolean>, o: TrainOptions, tok: ReturnType<typeof charTokenizer>, pipelineState: Record<string, HostValue>, stepIndex: number,
): Promise<Metrics> {
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

/** Store a step's state updates; returns `state/NAME` metrics for the scalar ones. */
function applyUpdates(pipelineState: Record<string, HostValue>, updates: Readonly<Record<string, HostValue>>): Metrics {
  const out: Metrics = {};
  for (const [name, v] of Object.entries(updates)) {
    pipelineState[name] = v;
    if (v.data.length === 1) out[`state/${name}`] = v.data[0]!;
  }
  return out;
}

/**
 * ReMax's baseline: each prompt's greedy completion, scored by the same reward functions and the
 * pipeline's own reward stage (its last binding), one value per prompt.
 */
async function greedyRewards(
  tf: TFModule, run: Runner, g: IrGraph, policy: PolicyParams, prompts: readonly Int32Array[], rows: readonly Record<string, unknown>[],
  rewards: Map<string, { fn: RewardFn; source: string }>, roll: NonNullable<ReturnType<typeof rolloutSettings>>, params: ReadonlyMap<string, number | boolean>, tok: ReturnType<typeof charTokenizer>,
  pipelineState: Readonly<Record<string, HostValue>>,
): Promise<Float32Array> {
  const texts: string[] = [];
  const stopAfter = roll.stop === '' ? undefined : (ids: readonly number[]): boolean => tok.decode(ids).endsWith(roll.stop);
  for (const p of prompts) {
    const s = await sampleCompletions(run, policy, p, { n: 1, temperature: 0, topP: 1, maxTokens: roll.maxTokens, uniform: () => 0, ...(stopAfter !== undefined ? { stopAfter } : {}) });
    texts.push(tok.decode(s.ids));
  }
  const columns: Record<string, unknown[]> = {};
  for (const k of Object.keys(rows[0] ?? {})) columns[k] = rows.map((r) => r[k]);
  const scores = new Map<string, Float32Array>();
  for (const [name, r] of rewards) {
    const scored = await score(name, r.source, r.fn, { ...columns, prompts: columns['prompt'] as string[], completions: texts } as never);
    scores.set(`reward_fn.${name}`, Float32Array.from(scored.scores, (v) => (Number.isNaN(v) ? 0 : v)));
  }
  if (!g.outputs.some((o) => o.name.startsWith('reward.'))) throw new TrainError(`\`${g.meta.pipeline}\` reads greedy_reward but has no reward stage to score the greedy completions with`);
  return evalRewardStage(tf, run, g, scores, prompts.length, 1, params, pipelineState);
}

/**
 * A policy's log-probs of every completion token as host values [B, G, R] (0 off the mask), from
 * the same forward the loss uses, and with `entropy` its mean per-token entropy over the mask
 * (TRL's `entropy`) from the same logits.
 */
async function policyOnHost(
  run: Runner, p: PolicyParams, b: Pick<RolloutBatch, 'prompts' | 'completions' | 'G' | 'R'>, mask: Float32Array, entropy = false,
): Promise<{ logp: Float32Array; entropy: number }> {
  const out = run.tf.tidy(() => policyOutputs(run, p, b, 0, b.prompts.length, entropy));
  const lp = (await out.logp.data()) as Float32Array;
  const ent = out.entropy === undefined ? null : ((await out.entropy.data()) as Float32Array);
  run.tf.dispose([out.logp, ...(out.entropy === undefined ? [] : [out.entropy])]);
  let sum = 0;
  let n = 0;
  if (ent !== null) {
    mask.forEach((m, i) => {
      if (m !== 0) {
        sum += ent[i]!;
        n++;
      }
    });
  }
  return { logp: Float32Array.from(lp, (v, i) => (mask[i] === 1 ? v : 0)), entropy: n > 0 ? sum / n : 0 };
}

/**
 * Sample and score `o.prompts` groups. Groups that are all wrong get GHPO's hints when the rollout
 * asks for them. With dynamic sampling, groups whose reward (the pipeline's reward stage) is the
 * same for every completion are dropped and refilled from further prompts, for at most 4 rounds;
 * if too few informative groups turn up, dropped ones fill the batch.
 */
async function collectGroups(c: SampleContext, source: PromptSource, o: TrainOptions): Promise<{ groups: Group[]; rounds: number; dropped: number; hinted: number }> {
  const G = c.roll.n;
  const kept: Group[] = [];
  const spare: Group[] = [];
  let rounds = 0;
  let hinted = 0;
  while (kept.length < o.prompts && rounds < (c.roll.dynamic ? 4 : 1)) {
    rounds++;
    const rows = await source.take(o.prompts - kept.length);
    const first = source.cursor - rows.length;
    const where = (i: number): string => `prompt ${first + i}`;
    const round: Group[] = [];
    for (const [i, row] of rows.entries()) round.push(await sampleGroup(c, row, where(i)));
    await scoreGroups(c, round);
    if (c.roll.hintFrom !== '') hinted += await hintGroups(c, round, where);
    if (!c.roll.dynamic) {
      kept.push(...round);
      break;
    }
    const reward = await groupRewards(c, round);
    round.forEach((x, b) => (meanStd(reward.subarray(b * G, (b + 1) * G))[1] > 0 ? kept : spare).push(x));
  }
  const dropped = spare.length;
  while (kept.length < o.prompts && spare.length > 0) kept.push(spare.shift()!);
  return { groups: kept, rounds, dropped, hinted };
}
