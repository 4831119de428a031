/** The training step of a sampling pipeline (GRPO and the rest): rollouts, rewards, loss, update. */
import type { TFModule } from '../backends/tf.js';
import type { CompiledProgram } from '../exec/program.js';
import type { Runner } from '../policy/model.js';
import type { PolicyParams } from '../policy/params.js';
import { sampleCompletions } from '../policy/sample.js';
import type { charTokenizer } from '../policy/tokenizer.js';
import { score } from '../rewards/module.js';
import { adamStep, ADAM_DEFAULTS } from './adam.js';
import { clipRatios } from './clip.js';
import { evalRewardStage, groupRewards, hintGroups, sampleGroups, scoreGroups, segmentValues, type Group, type RolloutSettings, type SampleContext } from './collect.js';
import { TrainError, type Metrics, type TrainOptions } from './options.js';
import type { PromptSource } from './prompts.js';
import type { ResolvedRewards } from './reward-fns.js';
import type { Rng } from './rng.js';
import { appendSamples, groupSamples, stepAdvantage } from './samples.js';
import { hasRaggedAttention } from '../policy/ragged-attention.js';
import { applyUpdates, meanOver, meanStd, policyOnHost, skipNonfinite, type StepContext } from './step-context.js';
import { lossAndGrads, type HostValue, type RolloutBatch } from './step.js';

/** Rewards above this magnitude overflow float32 when squared (3.4e38): a group's variance, and so its advantages, degenerate. */
const HUGE_REWARD = 1e18;

/**
 * One step of a sampling pipeline: collect and score groups, old and reference log-probs, the
 * pipeline's loss over micro-batches for `--epochs` passes with Adam, and the step's metrics.
 */
export async function trainStep(c: StepContext, rng: Rng, source: PromptSource, rewards: ResolvedRewards, roll: RolloutSettings, stepIndex: number): Promise<Metrics> {
  const { tf, run, program, policy, ref, vars, state, params, o, tok, pipelineState } = c;
  const G = roll.n;
  const ctx: SampleContext = { tf, run, program, policy, rng, rewards, roll, params, tok, userError: (m) => new TrainError(m), state: pipelineState };
  const { groups, rounds, dropped, hinted } = await collectGroups(ctx, source, o);
  const rows = groups.map((x) => x.row);
  const prompts = groups.map((x) => x.prompt);
  const R = Math.max(...groups.map((x) => x.sample.R));
  const B = prompts.length;
  const completions = new Int32Array(B * G * R);
  // mask: the tokens the policy chose; forced: the ones the sampler put there (suffix, hint, roll-in).
  const mask = new Float32Array(B * G * R);
  const forced = new Float32Array(B * G * R);
  const lengths = new Int32Array(B * G);
  groups.forEach(({ sample: s, forced: f }, b) => {
    for (let gi = 0; gi < G; gi++) {
      const len = s.lengths[gi]!;
      lengths[b * G + gi] = len;
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
  if (program.reads('rollout_logp')) {
    // The sampler's log-probs as it sampled (training-inference mismatch correction).
    const rollout = new Float32Array(B * G * R);
    groups.forEach(({ sample: s }, b) => {
      for (let gi = 0; gi < G; gi++) rollout.set(s.logps.subarray(gi * s.R, gi * s.R + s.lengths[gi]!), (b * G + gi) * R);
    });
    perToken['rollout_logp'] = rollout;
  }
  if (program.reads('sum_pi_squared')) {
    // sum_v pi_v^2 of the sampler's distribution at each token (verl OTB, TRL WPO).
    const sq = new Float32Array(B * G * R);
    groups.forEach(({ sample: s }, b) => {
      for (let gi = 0; gi < G; gi++) if (s.sumPiSq !== undefined) sq.set(s.sumPiSq.subarray(gi * s.R, gi * s.R + s.lengths[gi]!), (b * G + gi) * R);
    });
    perToken['sum_pi_squared'] = sq;
  }
  if (program.reads('truncated')) {
    // 1 where the completion ran into its token limit without ending (TRL mask_truncated_completions).
    perCompletion['truncated'] = Float32Array.from(groups.flatMap(({ sample: s }) => Array.from({ length: G }, (_, gi) => (s.truncated?.[gi] === true ? 1 : 0))));
    metrics['completions/truncated_fraction'] = meanStd(perCompletion['truncated'])[0];
  }
  if (program.reads('uniform')) {
    // Seeded per-token uniform numbers (random token selection, clip_cov), from the run's RNG.
    perToken['uniform'] = Float32Array.from({ length: B * G * R }, () => rng.next());
  }
  for (const name of rewards.keys()) {
    perCompletion[`reward_fn.${name}`] = Float32Array.from(groups.flatMap((x) => Array.from(x.scores[name]!)));
    metrics[`rewards/${name}/mean`] = meanStd(perCompletion[`reward_fn.${name}`]!)[0];
    for (const k of Object.keys(groups[0]?.extras[name] ?? {})) metrics[`rewards/${name}/${k}`] = meanStd(groups.flatMap((x) => x.extras[name]![k] ?? []))[0];
  }
  perCompletion['variant'] = Float32Array.from(groups.flatMap((x) => x.variant));
  // The reward stage's value per completion, evaluated once when something below needs it.
  let stageReward: Float32Array | null = null;
  const rewardOf = async (): Promise<Float32Array> => (stageReward ??= await groupRewards(ctx, groups));
  const hasRewardStage = program.rewards.stage !== null;
  if (program.reads('token_reward') || (program.reads('reward') && !hasRewardStage)) {
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
  const parts = B % o.microBatches === 0 ? o.microBatches : 1;
  // With one micro-batch on cpu and wasm, the current policy's forward (the old log-probs, the
  // entropy) is the first pass's own, inside its gradient tape; otherwise a forward of its own here.
  const inTape = parts === 1 && hasRaggedAttention(run.backend);
  let current = inTape ? null : await policyOnHost(run, policy, { prompts, completions, G, R, lengths }, mask, true);
  const refLogp = (await policyOnHost(run, ref, { prompts, completions, G, R, lengths }, mask)).logp;
  if (program.feedable.has('greedy_reward')) {
    perPrompt['greedy_reward'] = await greedyRewards(tf, run, program, policy, prompts, rows, rewards, roll, params, tok, pipelineState);
    metrics['greedy_reward'] = meanStd(perPrompt['greedy_reward'])[0];
  }
  let batch: RolloutBatch = { B, G, R, prompts, completions, lengths, mask, refLogp, perCompletion, perPrompt, perToken, step: stepIndex, totalSteps: o.steps };
  if (current !== null) batch = { ...batch, oldLogp: current.logp };
  let first: Awaited<ReturnType<typeof lossAndGrads>> | null = null;
  let gradNorm = 0;
  const clipLow = params.get('clip_low');
  const clipHigh = params.get('clip_high');
  const clips: { low: number; high: number; region: number }[] = [];
  let skipped = false;
  for (let epoch = 0; epoch < (o.epochs ?? 1); epoch++) {
    // The first pass starts from the weights `current` was computed with: its forward is reused.
    const pass = await lossAndGrads(run, program, policy, epoch > 0 ? batch : current === null ? { ...batch, currentInTape: true } : { ...batch, before: current.raw }, params, parts, pipelineState);
    if (current === null) {
      current = { logp: pass.current!.logp, entropy: meanOver(pass.current!.raw.entropy!, mask), raw: pass.current!.raw };
      batch = { ...batch, oldLogp: current.logp };
    }
    const norm = Number.isFinite(pass.loss) ? await adamStep(tf, vars, pass.grads, state, { ...ADAM_DEFAULTS, lr: o.lr }) : NaN;
    tf.dispose(pass.grads);
    if (first === null) {
      first = pass;
      gradNorm = norm;
    }
    if (skipNonfinite(o, stepIndex + 1, pass.loss, norm)) {
      skipped = true;
      break;
    }
    const A = pass.shared['advantage.A'];
    const aOut = A === undefined ? undefined : program.output('advantage.A');
    if (pass.ratio !== undefined && A !== undefined && aOut !== undefined && aOut.dtype !== null && typeof clipLow === 'number' && typeof clipHigh === 'number') {
      clips.push(clipRatios(pass.ratio, { values: A, dims: aOut.dims }, mask, R, clipLow, clipHigh));
    }
  }
  if (!skipped) Object.assign(metrics, applyUpdates(pipelineState, first!.updates));
  // Rewards this large overflow float32 in the advantage's variance: every advantage becomes 0.
  let biggest = 0;
  for (const name of rewards.keys()) for (const v of perCompletion[`reward_fn.${name}`]!) biggest = Math.max(biggest, Math.abs(v));
  if (biggest > HUGE_REWARD) {
    metrics['rewards/overflow'] = 1;
    o.log(`warning: step ${stepIndex + 1}: a reward of magnitude ${biggest.toExponential(2)} overflows float32 when squared (above ${HUGE_REWARD.toExponential(0)}): advantages degenerate to 0; scale your rewards down`);
  }
  if (clips.length > 0) {
    // TRL logs the mean over the passes of a step (its gradient-accumulation steps and iterations).
    metrics['clip_ratio/low_mean'] = clips.reduce((a, c) => a + c.low, 0) / clips.length;
    metrics['clip_ratio/high_mean'] = clips.reduce((a, c) => a + c.high, 0) / clips.length;
    metrics['clip_ratio/region_mean'] = clips.reduce((a, c) => a + c.region, 0) / clips.length;
  }
  metrics['entropy'] = current!.entropy;
  const { loss, shared } = first!;
  // Fractions a pipeline reports as scalar loss bindings `frac_*` (tokens truncated or masked by a
  // mismatch correction), logged as `loss/frac_*`.
  for (const k of program.metrics.fractions) if (shared[k]?.length === 1) metrics[k.replace('.', '/')] = shared[k][0]!;
  const reward = shared['reward.reward'] ?? perCompletion[Object.keys(perCompletion)[0] ?? ''] ?? new Float32Array(B * G);
  const [rMean, rStd] = meanStd(reward);
  let zeroStd = 0;
  for (let b = 0; b < B; b++) if (meanStd(reward.subarray(b * G, (b + 1) * G))[1] === 0) zeroStd++;
  let kl = 0;
  let n = 0;
  mask.forEach((mv, i) => {
    if (mv === 0) return;
    const d = refLogp[i]! - current!.logp[i]!;
    kl += Math.exp(d) - d - 1;
    n++;
  });
  // Shared-prefix accounting: every completion with its own copy of the prompt, padded to R (raw),
  // against what the packed forward encodes: each prompt once and the completions' real tokens.
  const raw = prompts.reduce((a, p) => a + G * (p.length + R), 0);
  const packed = prompts.reduce((a, p) => a + p.length, 0) + lengths.reduce((a, x) => a + x, 0);
  appendSamples(o.out, groupSamples(stepIndex + 1, groups, tok, reward, stepAdvantage(program, shared), mask, G, R));
  return {
    loss, reward: rMean, reward_std: rStd, ...metrics, frac_reward_zero_std: zeroStd / B, kl: n > 0 ? kl / n : 0,
    'completions/mean_length': n / (B * G), grad_norm: gradNorm, learning_rate: o.lr, num_tokens: n,
    // 1 when the step changed no weight: a skipped non-finite step, or a gradient of exactly 0.
    no_update: skipped || gradNorm === 0 ? 1 : 0, ...(skipped ? { skipped_nonfinite: 1 } : {}),
    'prefix/raw_tokens': raw, 'prefix/packed_tokens': packed, 'prefix/shared_ratio': 1 - packed / raw,
  };
}

/**
 * ReMax's baseline: each prompt's greedy completion, scored by the same reward functions and the
 * pipeline's own reward stage (its last binding), one value per prompt.
 */
async function greedyRewards(
  tf: TFModule, run: Runner, program: CompiledProgram, policy: PolicyParams, prompts: readonly Int32Array[], rows: readonly Record<string, unknown>[],
  rewards: ResolvedRewards, roll: RolloutSettings, params: ReadonlyMap<string, number | boolean>, tok: ReturnType<typeof charTokenizer>,
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
  if (program.rewards.stage === null) throw new TrainError(`\`${program.name}\` reads greedy_reward but has no reward stage to score the greedy completions with`);
  return evalRewardStage(tf, run, program, scores, prompts.length, 1, params, pipelineState);
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
    // Every row's group in one batched decode (it yields to the event loop at every token, so a
    // second Ctrl-C is seen at once).
    const round: Group[] = await sampleGroups(c, rows, where);
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
