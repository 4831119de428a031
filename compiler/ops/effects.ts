/** Effectful ops: sampling and state updates. Never merged or dropped by passes. */
import { ROLLOUT, tensor, type TensorType } from '../types.js';
import { asTensor, defineOp } from './define.js';

/**
 * `rollout(n, temperature, top_p, max_tokens, dynamic, stop)`: sample n completions per prompt
 * from the policy. With `dynamic` (DAPO's dynamic sampling), groups whose rewards are all equal
 * carry no signal: they are dropped and refilled from further prompts. A completion ends at EOS,
 * at max_tokens, or once its text ends with `stop` (kept in the completion), when it is not empty.
 */
export const rollout = defineOp({
  name: 'rollout',
  dsl: 'rollout',
  summary: 'Sample n completions per prompt (temperature, top_p, max_tokens; dynamic: refill groups whose rewards are all equal; stop: a stop string).',
  traits: ['effect'],
  inputs: [
    { name: 'n', kind: 'int-scalar' },
    { name: 'temperature', kind: 'number-scalar', default: 1 },
    { name: 'top_p', kind: 'number-scalar', default: 1 },
    { name: 'max_tokens', kind: 'int-scalar', default: 64 },
    { name: 'dynamic', kind: 'bool', default: false },
    { name: 'stop', kind: 'string', default: '' },
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
  infer: (types) => {
    const t = asTensor(types[0]);
    return t === null ? null : (tensor(t.dtype, t.dims) as TensorType);
  },
});
