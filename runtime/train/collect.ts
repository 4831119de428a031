/**
 * The sample stage of `rlp run`: draw prompts, sample each prompt's group of completions as the
 * pipeline's `rollout` declares, and score them. Besides plain sampling it covers DAPO's dynamic
 * sampling, HBPO's prompt suffixes, DR-PO's forced dataset prefixes, GHPO's hints for groups that
 * are all wrong, and SPO's Monte-Carlo values of completion prefixes.
 *
 * Tokens the policy did not choose (suffixes, hints, roll-in) are sampled as a forced start of
 * each completion: the model sees prompt + forced + sampled tokens exactly as if the forced text
 * were in the prompt, while the prompt stays one shared prefix per group. They are left out of
 * `mask` and marked in `forced`, so losses never train on them.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TFModule } from '../backends/tf.js';
import { runPlan } from '../exec/executor.js';
import type { CompiledProgram, RolloutSpec } from '../exec/program.js';
import type { Runner } from '../policy/model.js';
import type { PolicyParams } from '../policy/params.js';
import { sampleCompletions } from '../policy/sample.js';
import { sampleBatch } from '../policy/sample-batch.js';
import { BOS, UnknownCharacter, type Tokenizer } from '../policy/tokenizer.js';
import type { RewardFn } from '../rewards/builtins.js';
import { score } from '../rewards/module.js';
import type { Rng } from './rng.js';
import type { HostValue } from './step.js';

/** The settings of the pipeline's `rollout` (the program's rollout spec, checked). */
export type RolloutSettings = RolloutSpec;

/** The hint levels of GHPO: the fraction of the reference revealed at level 1, 2, 3. */
export const HINT_FRACTIONS: readonly number[] = Object.freeze([0.25, 0.5, 0.75]);

/** A problem with the run's data or settings: a user error (the loop's TrainError). */
export type UserError = (message: string) => Error;

/** Everything the sample stage needs. */
export interface SampleContext {
  readonly tf: TFModule;
  readonly run: Runner;
  readonly program: CompiledProgram;
  readonly policy: PolicyParams;
  readonly rng: Rng;
  readonly rewards: ReadonlyMap<string, { fn: RewardFn; source: string }>;
  readonly roll: RolloutSettings;
  readonly params: ReadonlyMap<string, number | boolean>;
  readonly tok: Tokenizer;
  readonly userError: UserError;
  /** The pipeline's state variables as of this step (for a reward stage that reads them). */
  readonly state?: Readonly<Record<string, HostValue>>;
}

/** One prompt's group: its row, encoded prompt, G sampled completions and their reward scores. */
export interface Group {
  readonly row: Record<string, unknown>;
  readonly prompt: Int32Array;
  readonly sample: { ids: Int32Array; lengths: number[]; R: number; logps: Float32Array; sumPiSq?: Float32Array; truncated?: boolean[] };
  /** Per completion: how many leading tokens were forced... */
  readonly forced: readonly number[];
  /** ...and how many of those continue the prompt (suffix, hint) rather than start the answer (roll-in). */
  readonly promptLike: readonly number[];
  /** Per completion: the index of its suffix (HBPO), 0 without suffixes. */
  readonly variant: readonly number[];
  /** 0: no hint; 1..3: sampled with HINT_FRACTIONS[level - 1] of the hint column. */
  readonly hintLevel: number;
  scores: Record<string, Float64Array>;
  extras: Record<string, Record<string, number[]>>;
}

function encode(c: SampleContext, text: string, what: string): number[] {
  try {
    return [...c.tok.encode(text)];
  } catch (e) {
    if (e instanceof UnknownCharacter) throw c.userError(`${what}: ${e.message}`);
    throw e;
  }
}

function column(c: SampleContext, row: Record<string, unknown>, name: string, what: string): string {
  const v = row[name];
  if (v === undefined || v === null) throw c.userError(`the rollout's ${what} reads the column \`${name}\`, which this row does not have (prompt ${JSON.stringify(row['prompt'])})`);
  return String(v);
}

function stopAfter(c: SampleContext): ((ids: readonly number[]) => boolean) | undefined {
  const stop = c.roll.stop;
  return stop === '' ? undefined : (ids) => c.tok.decode(ids).endsWith(stop);
}

/** A row's group before sampling: its prompt and each completion's forced start. */
interface GroupPlan {
  readonly row: Record<string, unknown>;
  readonly prompt: Int32Array;
  readonly forced: number[][];
  readonly promptLike: number[];
  readonly variant: number[];
  readonly hintLevel: number;
}

/** Prepare the group of one row: hint (GHPO), suffix (HBPO) and roll-in (DR-PO) forced first. */
function planGroup(c: SampleContext, row: Record<string, unknown>, where: string, hintLevel: number): GroupPlan {
  const { roll } = c;
  const G = roll.n;
  const prompt = Int32Array.from([BOS, ...encode(c, String(row['prompt']), where)]);
  const hint = hintLevel === 0 ? [] : (() => {
    const ref = column(c, row, roll.hintFrom, 'hint_from');
    return encode(c, roll.hintText + ref.slice(0, Math.ceil(ref.length * HINT_FRACTIONS[hintLevel - 1]!)), `${where}, hint`);
  })();
  const suffixes = roll.suffixes.map((s, k) => encode(c, s, `${where}, suffix ${k}`));
  const per = suffixes.length === 0 ? G : G / suffixes.length;
  const forced: number[][] = [];
  const promptLike: number[] = [];
  const variant: number[] = [];
  for (let gi = 0; gi < G; gi++) {
    const k = Math.floor(gi / per);
    const head = [...hint, ...(suffixes[k] ?? [])];
    let rollIn: number[] = [];
    if (roll.reset > 0 && c.rng.next() < roll.reset) {
      const ref = encode(c, column(c, row, roll.resetFrom, 'reset_from'), `${where}, reset_from`);
      // DR-PO: k ~ Uniform{1, ..., L - 1} tokens of the reference response, then the policy goes on.
      if (ref.length >= 2) rollIn = ref.slice(0, 1 + Math.floor(c.rng.next() * (ref.length - 1)));
    }
    forced.push([...head, ...rollIn]);
    promptLike.push(head.length);
    variant.push(suffixes.length === 0 ? 0 : k);
  }
  return { row, prompt, forced, promptLike, variant, hintLevel };
}

/** The group of a plan and its sample. */
function groupOf(x: GroupPlan, sample: Group['sample']): Group {
  // A forced start longer than the context is cut with it.
  const forcedLen = x.forced.map((f, gi) => Math.min(f.length, sample.lengths[gi]!));
  return { row: x.row, prompt: x.prompt, sample, forced: forcedLen, promptLike: x.promptLike.map((p, gi) => Math.min(p, forcedLen[gi]!)), variant: x.variant, hintLevel: x.hintLevel, scores: {}, extras: {} };
}

/** Sample the group of one row: hint (GHPO), suffix (HBPO) and roll-in (DR-PO) forced first. */
export async function sampleGroup(c: SampleContext, row: Record<string, unknown>, where: string, hintLevel = 0): Promise<Group> {
  const { roll } = c;
  const x = planGroup(c, row, where, hintLevel);
  const stop = stopAfter(c);
  const sample = await sampleCompletions(c.run, c.policy, x.prompt, {
    n: roll.n, temperature: roll.temperature, topP: roll.topP, maxTokens: roll.maxTokens, uniform: () => c.rng.next(), forced: x.forced,
    ...(stop !== undefined ? { stopAfter: stop } : {}),
  });
  return groupOf(x, sample);
}

/**
 * Sample the groups of several rows together (one batched decode, runtime/policy/sample-batch.ts):
 * what `sampleGroup` gives for each row, with the seeded draws taken step by step across the rows.
 */
export async function sampleGroups(c: SampleContext, rows: readonly Record<string, unknown>[], where: (i: number) => string): Promise<Group[]> {
  const { roll } = c;
  const plans = rows.map((row, i) => planGroup(c, row, where(i), 0));
  const stop = stopAfter(c);
  const samples = await sampleBatch(c.run, c.policy, plans.map((x) => x.prompt), {
    n: roll.n, temperature: roll.temperature, topP: roll.topP, maxTokens: roll.maxTokens, uniform: () => c.rng.next(), forced: plans.map((x) => x.forced),
    ...(stop !== undefined ? { stopAfter: stop } : {}),
  });
  return plans.map((x, i) => groupOf(x, samples[i]!));
}

/** The text a reward function sees for completion `gi`: everything after the prompt-like forced tokens. */
function completionText(c: SampleContext, x: Group, gi: number): string {
  const s = x.sample;
  return c.tok.decode(s.ids.subarray(gi * s.R + x.promptLike[gi]!, gi * s.R + s.lengths[gi]!));
}

/** The prompt a reward function sees for completion `gi`: the row's, followed by its hint and suffix. */
function promptText(c: SampleContext, x: Group, gi: number): string {
  const s = x.sample;
  return String(x.row['prompt']) + c.tok.decode(s.ids.subarray(gi * s.R, gi * s.R + x.promptLike[gi]!));
}

/** Call every reward function on texts [n], with each text's row columns; scores by function name. */
async function scoreTexts(c: SampleContext, rows: readonly Record<string, unknown>[], prompts: readonly string[], texts: readonly string[]): Promise<Map<string, { scores: Float64Array; extras: Record<string, number[]> }>> {
  const columns: Record<string, unknown[]> = {};
  for (const k of Object.keys(rows[0] ?? {})) columns[k] = rows.map((r) => r[k]);
  const out = new Map<string, { scores: Float64Array; extras: Record<string, number[]> }>();
  for (const [name, r] of c.rewards) {
    const scored = await score(name, r.source, r.fn, { ...columns, prompts: [...prompts], completions: [...texts] } as never);
    out.set(name, { scores: Float64Array.from(scored.scores, (v) => (Number.isNaN(v) ? 0 : v)), extras: scored.extras });
  }
  return out;
}

/** Score the completions of groups with the reward functions (filling `scores` and `extras`). */
export async function scoreGroups(c: SampleContext, groups: readonly Group[]): Promise<void> {
  const G = c.roll.n;
  const all = groups.flatMap((x) => Array.from({ length: G }, (_, gi) => ({ x, gi })));
  const scored = await scoreTexts(c, all.map(({ x }) => x.row), all.map(({ x, gi }) => promptText(c, x, gi)), all.map(({ x, gi }) => completionText(c, x, gi)));
  groups.forEach((x, b) => {
    x.scores = {};
    x.extras = {};
    for (const [name, s] of scored) {
      x.scores[name] = s.scores.slice(b * G, (b + 1) * G);
      x.extras[name] = Object.fromEntries(Object.entries(s.extras).map(([k, xs]) => [k, xs.slice(b * G, (b + 1) * G)]));
    }
  });
}

/** The pipeline's reward stage (its last binding) on fed reward-function scores [n, G]. */
export async function evalRewardStage(
  tf: TFModule, run: Runner, program: CompiledProgram, scores: ReadonlyMap<string, Float32Array>, n: number, G: number, params: ReadonlyMap<string, number | boolean>,
  state: Readonly<Record<string, HostValue>> = {},
): Promise<Float32Array> {
  const want = program.rewards.stage;
  if (want === null) {
    // No reward stage: the reward is the fed `reward` itself, i.e. the single reward function.
    return [...scores.values()][0] ?? new Float32Array(n * G);
  }
  const feeds = new Map([...scores].map(([k, v]) => [k, tf.tensor(v, [n, G])] as const));
  const current = new Map(Object.entries(state).map(([k, v]) => [k, tf.tensor(v.data as number[], [...v.shape])] as const));
  const plan = program.plan([...feeds.keys()], [want]);
  const t: tfc.Tensor = tf.tidy(() => runPlan(plan, { tf, backend: run.backend, sizes: new Map([['B', n], ['G', G]]), feeds, params, state: current }).get(plan.outputs.get(want)!)!);
  const out = Float32Array.from((await t.data()) as Float32Array);
  tf.dispose([t, ...feeds.values(), ...current.values()]);
  return out;
}

/** The reward stage's value of every completion of groups [groups.length * G]. */
export async function groupRewards(c: SampleContext, groups: readonly Group[]): Promise<Float32Array> {
  const feeds = new Map([...c.rewards.keys()].map((name) => [`reward_fn.${name}`, Float32Array.from(groups.flatMap((x) => Array.from(x.scores[name]!)))] as const));
  return evalRewardStage(c.tf, c.run, c.program, feeds, groups.length, c.roll.n, c.params, c.state);
}

/**
 * GHPO: each group whose completions all score <= 0 is sampled again with a hint, 25% of the hint
 * column, then 50%, then 75%, until one completion scores > 0; the last attempt is the group trained on.
 * Returns how many groups were hinted.
 */
export async function hintGroups(c: SampleContext, groups: Group[], where: (i: number) => string): Promise<number> {
  const G = c.roll.n;
  const allWrong = (r: Float32Array, b: number): boolean => r.subarray(b * G, (b + 1) * G).every((v) => v <= 0);
  let reward = await groupRewards(c, groups);
  let pending = [...groups.keys()].filter((b) => allWrong(reward, b));
  const hinted = pending.length;
  for (let level = 1; level <= HINT_FRACTIONS.length && pending.length > 0; level++) {
    const again: Group[] = [];
    for (const b of pending) again.push(await sampleGroup(c, groups[b]!.row, where(b), level));
    await scoreGroups(c, again);
    reward = await groupRewards(c, again);
    pending.forEach((b, i) => (groups[b] = again[i]!));
    pending = pending.filter((_, i) => allWrong(reward, i));
  }
  return hinted;
}

/**
 * SPO: Monte-Carlo values of completion prefixes. Each completion's sampled part is cut every
 * `segment` tokens; from each cut, `continuations` samples go on to the end and are scored by the
 * reward functions and the reward stage (each on its own, as for ReMax's greedy pass); the mean is
 * the prefix's value. Per token [B, G, R]: `value_start` is the value before its segment (the
 * group's mean reward for the first) and `value_end` the value after it (the completion's own
 * reward for the last); 0 on forced tokens and padding.
 */
export async function segmentValues(c: SampleContext, groups: readonly Group[], reward: Float32Array, R: number): Promise<{ start: Float32Array; end: Float32Array; sampled: number }> {
  const { roll } = c;
  const G = roll.n;
  const K = roll.continuations;
  const S = roll.segment;
  const start = new Float32Array(groups.length * G * R);
  const end = new Float32Array(groups.length * G * R);
  let sampled = 0;
  for (const [b, x] of groups.entries()) {
    const s = x.sample;
    // Cuts of completion gi: after S, 2S, ... sampled tokens, short of its end.
    const cuts = Array.from({ length: G }, (_, gi) => {
      const n = s.lengths[gi]! - x.forced[gi]!;
      return Array.from({ length: Math.max(0, Math.ceil(n / S) - 1) }, (_, j) => (j + 1) * S);
    });
    const jobs = cuts.flatMap((cs, gi) => cs.map((cut) => ({ gi, cut })));
    const values = new Map<string, number>();
    if (jobs.length > 0 && K > 0) {
      // One decoder pass for every cut of the group: K continuations of each prefix.
      const forced = jobs.flatMap(({ gi, cut }) => Array.from({ length: K }, () => Array.from(s.ids.subarray(gi * s.R, gi * s.R + x.forced[gi]! + cut))));
      const stop = stopAfter(c);
      // Sampled with the largest budget left after a cut; each continuation is then held to the
      // budget left after its own cut (max_tokens sampled tokens in all, as for the completion).
      const more = await sampleCompletions(c.run, c.policy, x.prompt, {
        n: forced.length, temperature: roll.temperature, topP: roll.topP, maxTokens: Math.max(1, roll.maxTokens - Math.min(...jobs.map((j) => j.cut))), uniform: () => c.rng.next(), forced,
        ...(stop !== undefined ? { stopAfter: stop } : {}),
      });
      sampled += forced.length;
      const texts: string[] = [];
      const prompts: string[] = [];
      forced.forEach((_, i) => {
        const { gi } = jobs[Math.floor(i / K)]!;
        const len = Math.min(more.lengths[i]!, x.forced[gi]! + roll.maxTokens);
        texts.push(c.tok.decode(more.ids.subarray(i * more.R + x.promptLike[gi]!, i * more.R + len)));
        prompts.push(promptText(c, x, gi));
      });
      const scored = await scoreTexts(c, forced.map(() => x.row), prompts, texts);
      const feeds = new Map([...scored].map(([name, v]) => [`reward_fn.${name}`, Float32Array.from(v.scores)] as const));
      const r = await evalRewardStage(c.tf, c.run, c.program, feeds, forced.length, 1, c.params, c.state);
      jobs.forEach(({ gi, cut }, j) => {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += r[j * K + k]!;
        values.set(`${gi}:${cut}`, sum / K);
      });
    }
    let mean = 0;
    for (let gi = 0; gi < G; gi++) mean += reward[b * G + gi]! / G;
    for (let gi = 0; gi < G; gi++) {
      const f = x.forced[gi]!;
      const n = s.lengths[gi]! - f;
      const cs = cuts[gi]!;
      const valueAt = (cut: number): number => (cut === 0 ? mean : cut >= n ? reward[b * G + gi]! : values.get(`${gi}:${cut}`) ?? mean);
      for (let u = 0; u < n; u++) {
        // Sampled token u ends the prefix of u + 1 tokens; its segment runs from the last cut below.
        const j = Math.floor(u / S);
        const from = j * S;
        const to = j < cs.length ? cs[j]! : n;
        const at = (b * G + gi) * R + f + u;
        start[at] = valueAt(from);
        end[at] = valueAt(to);
      }
    }
  }
  return { start, end, sampled };
}
