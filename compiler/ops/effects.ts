/** Effectful ops: sampling and state updates. Never merged or dropped by passes. */
import { ROLLOUT, tensor, type TensorType } from '../types.js';
import { asTensor, defineOp } from './define.js';

/**
 * `rollout(n, temperature, top_p, max_tokens, dynamic, stop, ...)`: sample n completions per prompt
 * from the policy. With `dynamic` (DAPO's dynamic sampling), groups whose rewards are all equal
 * carry no signal: they are dropped and refilled from further prompts. A completion ends at EOS,
 * at max_tokens, or once its text ends with `stop` (kept in the completion), when it is not empty.
 *
 * Tokens the policy did not choose are `forced` (a standard input) and left out of `mask`:
 * - `suffixes` (HBPO budgets): "a|b|c" splits the n samples into equal consecutive subgroups, the
 *   k-th continuing the prompt with the k-th text; `variant` holds each sample's k.
 * - `reset` (DR-PO): with this probability a sample first copies a random-length prefix (1 to L-1
 *   characters) of the `reset_from` column, then samples on; the copied text is part of the
 *   completion the reward sees.
 * - `hint_from` (GHPO): when every sample of a group scores <= 0, the group is sampled again with
 *   the prompt followed by `hint_text` and the first 25%, then 50%, then 75% of that column.
 * - `continuations` (SPO): each completion is cut every `segment` tokens; from each cut,
 *   `continuations` samples are scored by the reward stage and their mean is the prefix's value.
 *   `value_start`/`value_end` hold, per token, the values before and after its segment (before the
 *   first: the group's mean reward; after the last: the completion's reward).
 */
export const rollout = defineOp({
  name: 'rollout',
  dsl: 'rollout',
  summary: 'Sample n completions per prompt (temperature, top_p, max_tokens; dynamic: refill groups whose rewards are all equal; stop: a stop string; suffixes: HBPO prompt variants; reset: DR-PO forced prefixes; hint_from: GHPO hints; continuations: SPO prefix values).',
  traits: ['effect'],
  inputs: [
    { name: 'n', kind: 'int-scalar' },
    { name: 'temperature', kind: 'number-scalar', default: 1 },
    { name: 'top_p', kind: 'number-scalar', default: 1 },
    { name: 'max_tokens', kind: 'int-scalar', default: 64 },
    { name: 'dynamic', kind: 'bool', default: false },
    { name: 'stop', kind: 'string', default: '' },
    { name: 'suffixes', kind: 'string', default: '' },
    { name: 'reset', kind: 'number-scalar', default: 0 },
    { name: 'reset_from', kind: 'string', default: 'answer' },
    { name: 'hint_from', kind: 'string', default: '' },
    { name: 'hint_text', kind: 'string', default: ' hint:' },
    { name: 'continuations', kind: 'int-scalar', default: 0 },
    { name: 'segment', kind: 'int-scalar', default: 4 },
  ],
  infer: () => ROLLOUT,
});

/** `update` of a state variable: the new value, stored for the next step. */
export const stateWrite = defineOp({
  name: 'state_update',
  dsl: null,
  summary: 'Store a new value of a state variable (attr `name`) for the next step.',
  traits: ['effect'],
  inputs: [{ name: 'value', kind: 'number' }],
  lower: (tf, [x]) => tf.clone(x!),
  torch: ([x]) => x!,
  infer: (types) => {
    const t = asTensor(types[0]);
    return t === null ? null : (tensor(t.dtype, t.dims) as TensorType);
  },
});
