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
export const BLOCKS: readonly string[] = Object.freeze(['params', 'state', ...STAGES, 'update']);
