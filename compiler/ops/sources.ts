/** Leaves of the graph: literals, params, standard inputs, state reads. Their type is an attr. */
import type { Type } from '../types.js';
import { defineOp, type Attrs, type LowerFn, type OpDef, type TorchFn } from './define.js';
import { formatNumber } from '../ir/print.js';

function source(name: string, summary: string, lower: LowerFn, torch: TorchFn): OpDef {
  return defineOp({
    name, dsl: null, summary,
    traits: ['source', 'pure'],
    inputs: [],
    // Sources carry their type in the node; the elaborator sets it, the verifier keeps it.
    infer: () => null as Type | null,
    lower,
    torch,
  });
}

/** A literal as Python source: `True`, `0.2`, `float("inf")`, `"text"`. */
export function pyLiteral(v: Attrs[string], float = true): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'number') return JSON.stringify(v);
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'float("nan")' : v > 0 ? 'float("inf")' : '-float("inf")';
  const plain = formatNumber(v);
  const exp = v.toExponential().replace('e+', 'e');
  const s = exp.length < plain.length && Number(exp) === v ? exp : plain;
  return float && Number.isInteger(v) && !/e/i.test(s) ? `${s}.0` : s;
}

/** Sources read their value by name: a keyword argument (params) or an argument of the stage function. */
const byName: TorchFn = (_, a) => String(a['name']);

export const constant = source('const', 'A literal constant (attr `value`).', (tf, _, a) => {
  const v = a['value'];
  return typeof v === 'boolean' ? tf.scalar(v, 'bool') : tf.scalar(Number(v), Number.isInteger(v) ? 'int32' : 'float32');
}, (_, a) => pyLiteral(a['value']!, !Number.isInteger(a['value'])));
export const param = source('param', 'A pipeline param (attr `name`): a scalar the user may `--set`.', (_, __, a, c) => c.env.param(String(a['name'])), byName);
export const input = source('input', 'A standard input or fed value (attr `name`).', (_, __, a, c) => c.env.input(String(a['name'])), byName);
export const stateRead = source('state', 'The value of a state variable at the start of the step (attr `name`).', (_, __, a, c) => c.env.state(String(a['name'])), byName);
export const rewardFn = source('reward_fn', 'A named reward function applied to the rollout (attr `name`); deterministic, so uses share one node.', (_, __, a, c) => c.env.input(`reward_fn.${String(a['name'])}`), byName);
