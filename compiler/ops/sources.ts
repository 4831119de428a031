/** Leaves of the graph: literals, params, standard inputs, state reads. Their type is an attr. */
import type { Type } from '../types.js';
import { defineOp, type OpDef } from './define.js';

function source(name: string, summary: string, effect = false): OpDef {
  return defineOp({
    name, dsl: null, summary,
    traits: effect ? ['source', 'effect'] : ['source', 'pure'],
    inputs: [],
    // Sources carry their type in the node; the elaborator sets it, the verifier keeps it.
    infer: () => null as Type | null,
  });
}

export const constant = source('const', 'A literal constant (attr `value`).');
export const param = source('param', 'A pipeline param (attr `name`): a scalar the user may `--set`.');
export const input = source('input', 'A standard input or fed value (attr `name`).');
export const stateRead = source('state', 'The value of a state variable at the start of the step (attr `name`).');
export const rewardFn = source('reward_fn', 'A named reward function applied to the rollout (attr `name`); deterministic, so uses share one node.');
