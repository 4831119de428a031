/** The standard inputs every pipeline can read, with their types and meaning. */
import { tensor, type TensorType } from '../types.js';

/** A predeclared input. */
export interface StandardInput {
  readonly name: string;
  readonly type: TensorType;
  readonly doc: string;
}

const tok = tensor('f32', ['B', 'G', 'T'], 'mask');

/** All standard inputs, in the order `rlp explain` lists them. */
export const STANDARD_INPUTS: readonly StandardInput[] = Object.freeze([
  { name: 'logp', type: tok, doc: 'per-token log-probabilities under the current policy' },
  { name: 'old_logp', type: tok, doc: 'per-token log-probabilities under the behaviour policy that sampled' },
  { name: 'ref_logp', type: tok, doc: 'per-token log-probabilities under the reference policy' },
  { name: 'mask', type: tensor('f32', ['B', 'G', 'T'], null, 'mask'), doc: '1 on completion tokens, 0 on padding' },
  { name: 'reward', type: tensor('f32', ['B', 'G']), doc: 'one scalar reward per completion' },
  { name: 'values', type: tok, doc: 'critic values per token, from the critic being trained' },
  { name: 'old_values', type: tok, doc: 'critic values per token at rollout time (GAE, value clipping)' },
  { name: 'entropy', type: tok, doc: 'per-token entropy of the current policy' },
  { name: 'token_reward', type: tok, doc: 'per-token rewards (e.g. a reward at the last token)' },
  { name: 'greedy_reward', type: tensor('f32', ['B']), doc: 'reward of the greedy completion of each prompt (ReMax)' },
  { name: 'step', type: tensor('i32', []), doc: 'the training step, from 0' },
  { name: 'total_steps', type: tensor('i32', []), doc: 'the number of training steps of the run (rlp run --steps; schedules such as MDPO\'s)' },
  { name: 'forced', type: tensor('f32', ['B', 'G', 'T']), doc: '1 on completion tokens the sampler forced (prompt suffixes, hints, DR-PO roll-in); mask is 0 there' },
  { name: 'variant', type: tensor('f32', ['B', 'G']), doc: 'which of the rollout\'s `suffixes` a sample continued (0, 1, ...; HBPO budgets)' },
  { name: 'hint_level', type: tensor('f32', ['B']), doc: 'how much of a hint a group was sampled with (0: none, 1..3: 25%, 50%, 75%; GHPO)' },
  { name: 'value_start', type: tok, doc: 'Monte-Carlo value of the prefix before this token\'s segment (SPO; rollout continuations)' },
  { name: 'value_end', type: tok, doc: 'Monte-Carlo value of the prefix after this token\'s segment (SPO; the reward after the last)' },
  { name: 'rollout_logp', type: tok, doc: 'per-token log-probabilities under the sampler as it sampled (the inference engine; training-inference mismatch correction)' },
  { name: 'label', type: tensor('f32', ['B', 'G']), doc: 'unpaired preference label of a completion: 1 desirable, 0 undesirable (KTO, BCO)' },
  { name: 'truncated', type: tensor('bool', ['B', 'G']), doc: 'true where the sampler stopped a completion at its token limit, before it ended (TRL mask_truncated_completions)' },
  { name: 'sum_pi_squared', type: tok, doc: 'per-token sum over the vocabulary of the sampler\'s squared probabilities, sum_v pi_v^2 (verl OTB, TRL WPO)' },
  { name: 'uniform', type: tensor('f32', ['B', 'G', 'T']), doc: 'per-token uniform random numbers in [0, 1), drawn from the run\'s seed (seeded random token selection: clip_cov)' },
]);

/** Built-in reward functions, readable by name in the `reward` stage. */
export const BUILTIN_REWARDS: readonly { readonly name: string; readonly doc: string; readonly columns: readonly string[] }[] = Object.freeze([
  { name: 'correct', doc: '1 when the completion holds the expected answer (the `answer` column), else 0', columns: ['answer'] },
  { name: 'format', doc: '1 when the completion matches the task\'s answer format (the `format` column, a regex), else 0', columns: ['format'] },
  { name: 'length', doc: 'the number of completion characters', columns: [] },
]);

const BY_NAME = new Map(STANDARD_INPUTS.map((i) => [i.name, i]));

/** The standard input of this name, or undefined. */
export function standardInput(name: string): StandardInput | undefined {
  return BY_NAME.get(name);
}

/** The blocks a pipeline may hold, and the order its stages run in. */
export const STAGES: readonly string[] = Object.freeze(['sample', 'reward', 'advantage', 'normalize', 'loss']);
export const BLOCKS: readonly string[] = Object.freeze(['params', 'inputs', 'state', ...STAGES, 'update']);
