/** Settings a run reads from the compiled pipeline: resolved params and the sample stage's rollout. */
import type { IrGraph } from '../../compiler/ir/graph.js';
import { opByName } from '../../compiler/ops/index.js';
import { formatRange, inRange } from '../../compiler/ir/param-range.js';
import { parseParam } from '../eval/validate.js';
import type { RolloutSettings } from './collect.js';
import { TrainError } from './options.js';

/** The pipeline's params: defaults, overridden by `--set` values (checked against the param's type). */
export function resolveParams(g: IrGraph, set: Readonly<Record<string, string>>): Map<string, number | boolean> {
  const out = new Map<string, number | boolean>();
  for (const p of g.meta.params) if (typeof p.default === 'number' || typeof p.default === 'boolean') out.set(p.name, p.default);
  for (const [k, raw] of Object.entries(set)) {
    const p = g.meta.params.find((x) => x.name === k);
    if (p === undefined) throw new TrainError(`\`${k}\` is not a param of \`${g.meta.pipeline}\`; its params are ${g.meta.params.map((x) => x.name).join(', ')}`);
    const v = parseParam(p.type, raw);
    if (v === null) throw new TrainError(`param \`${k}\` is \`${p.type}\`, but \`${raw}\` is not one`);
    if (typeof v === 'number' && p.range !== null && !inRange(p.range, v)) throw new TrainError(`param \`${k}\` is set to ${raw}, outside its range ${formatRange(p.range)}`);
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

/** The most completions per prompt a run samples. */
const MAX_GROUP = 1024;
/** The most tokens a completion may have (the policy's context bounds it further). */
const MAX_TOKENS = 4096;

/** The rollout settings of the pipeline's sample stage (see the `rollout` op), checked. */
export function rolloutSettings(g: IrGraph, params: ReadonlyMap<string, number | boolean>, set: Readonly<Record<string, string>>): RolloutSettings | null {
  const r = g.ordered().find((n) => n.op === 'rollout');
  if (r === undefined) return null;
  const num = (i: number): number => scalarValue(g, r.inputs[i]!, params);
  const str = (i: number): string => stringValue(g, r.inputs[i]!, set);
  const s: RolloutSettings = {
    n: num(0), temperature: num(1), topP: num(2), maxTokens: num(3), dynamic: num(4) === 1, stop: str(5),
    suffixes: str(6) === '' ? [] : str(6).split('|'), reset: num(7), resetFrom: str(8), hintFrom: str(9), hintText: str(10),
    continuations: num(11), segment: num(12),
  };
  // Bounded before anything is allocated: a group of 1e8 would take gigabytes before failing.
  if (!(Number.isInteger(s.n) && s.n >= 1 && s.n <= MAX_GROUP)) throw new TrainError(`the rollout's n (completions per prompt) must be an integer in [1, ${MAX_GROUP}], found ${s.n}`);
  if (!(Number.isFinite(s.temperature) && s.temperature >= 0)) throw new TrainError(`the rollout's temperature must be a finite number >= 0 (0: greedy), found ${s.temperature}`);
  if (!(s.topP > 0 && s.topP <= 1)) throw new TrainError(`the rollout's top_p must be in (0, 1], found ${s.topP}`);
  if (!(Number.isInteger(s.maxTokens) && s.maxTokens >= 1 && s.maxTokens <= MAX_TOKENS)) throw new TrainError(`the rollout's max_tokens must be an integer in [1, ${MAX_TOKENS}], found ${s.maxTokens}`);
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
