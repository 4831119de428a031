/** Building torch-runner cases from a reference batch and an export's function signatures. */
import { IrGraph } from '../../compiler/ir/graph.js';
import { trainerRewards, type StageFn } from '../../compiler/torch/export.js';
import { advantageOutput } from '../../runtime/eval/evaluate.js';
import { interpretOutputs } from '../../runtime/reference/interpreter.js';
import { named, type NamedArray } from '../../runtime/reference/named-array.js';
import { rng } from './random-batch.js';
import type { RefBatch } from './references.js';
import type { PyTensor, TorchCase } from './torch.js';

/** Values a RefBatch does not carry (other standard inputs, declared inputs, state), by feed name. */
export type ExtraFeeds = Readonly<Record<string, { readonly shape: number[]; readonly data: Float64Array; readonly bool?: boolean }>>;

/** The RefBatch's own inputs (everything else a pipeline reads comes from `extraFeeds`). */
const IN_BATCH = new Set(['logp', 'old_logp', 'ref_logp', 'mask', 'token_reward', 'old_values', 'values', 'value_start', 'value_end', 'reward', 'greedy_reward']);

/** Size of a dim that is not B, G or T (a declared input's C, H, K, P...). */
const OTHER_DIM = 3;

/**
 * Seeded values, from their types, for every input of `g` a RefBatch does not carry (standard
 * ones such as `rollout_logp`, `variant` or `step`, and the pipeline's declared inputs), and the
 * state at its initial value (as `state.NAME`). Float32-exact; token-shaped values have garbage
 * (1e4) on padding; other values lie in (0.05, 0.95) so logs and lgamma stay finite.
 */
export function extraFeeds(g: IrGraph, b: RefBatch, seed = 71): ExtraFeeds {
  const r = rng(seed);
  const f = Math.fround;
  const out: Record<string, { shape: number[]; data: Float64Array; bool?: boolean }> = {};
  const sizeOf = (d: string): number => (d === 'B' ? b.B : d === 'G' ? b.G : d === 'T' ? b.T : OTHER_DIM);
  for (const n of g.ordered()) {
    const name = String(n.attrs['name']);
    if (n.op !== 'input' || IN_BATCH.has(name) || out[name] !== undefined || n.type.kind !== 'tensor') continue;
    const dims = n.type.dims;
    const shape = dims.map(sizeOf);
    const count = shape.reduce((a, x) => a * x, 1);
    const tok = dims.join(',') === 'B,G,T';
    const bool = n.type.dtype === 'bool';
    const pick = (i: number): number => {
      if (bool) return r() < 0.5 ? 0 : 1;
      if (name === 'step') return 3;
      if (name === 'total_steps') return 10;
      if (name === 'variant' || name === 'hint_level') return Math.floor(4 * r());
      if (name === 'label') return r() < 0.5 ? 0 : 1;
      if (name === 'forced') return b.mask[i] === 0 && r() < 0.5 ? 1 : 0;
      if (name.endsWith('logp')) return name === 'rollout_logp' ? b.logp[i]! + 0.2 * (r() - 0.5) : -0.05 - 2 * r();
      return 0.05 + 0.9 * r();
    };
    const data = Float64Array.from({ length: count }, (_, i) => (tok && b.mask[i] === 0 && !bool && name !== 'forced' ? 1e4 : f(pick(i))));
    out[name] = bool ? { shape, data, bool } : { shape, data };
  }
  // The reward stage is the trainer's: each result it computes from rewards is fed (reward.reward the batch's reward,
  // which entriesFor already feeds where the stage calls a reward function).
  const rewardFed = g.ordered().some((n) => n.op === 'reward_fn' || (n.op === 'input' && n.attrs['name'] === 'reward'));
  for (const o of trainerRewards(g)) {
    const n = g.node(o.node);
    if ((o.name === 'reward.reward' && rewardFed) || n.type.kind !== 'tensor') continue;
    const shape = n.type.dims.map(sizeOf);
    const count = shape.reduce((a, x) => a * x, 1);
    if (n.type.dtype === 'bool') out[o.name] = { shape, data: Float64Array.from({ length: count }, () => (r() < 0.5 ? 0 : 1)), bool: true };
    else out[o.name] = { shape, data: n.type.dims.join(',') === 'B,G' ? Float64Array.from(b.reward) : Float64Array.from({ length: count }, () => f(0.05 + 0.9 * r())) };
  }
  for (const s of g.meta.state) {
    const shape = s.type.kind === 'tensor' ? s.type.dims.map(sizeOf) : [];
    out[`state.${s.name}`] = { shape, data: new Float64Array(shape.reduce((a, x) => a * x, 1)).fill(Number(s.init)) };
  }
  return out;
}

/** The extra feeds as `runPipeline`'s `extra` bindings: inputs, and reward results by their bare names (not state). */
export function extraInputs(x: ExtraFeeds): ExtraFeeds {
  return Object.fromEntries(Object.entries(x).filter(([k]) => !k.startsWith('state.')).map(([k, v]) => [k.startsWith('reward.') ? k.slice(7) : k, v]));
}

/** The graph with each reward-stage result the trainer computes replaced by an input named `reward.NAME` (trainerRewards). */
function rewardsAsInputs(g: IrGraph): IrGraph {
  const fed = new Map(trainerRewards(g).map((o) => [o.node, o.name]));
  const nodes = g.ordered().map((n) => {
    const name = fed.get(n.id);
    return name === undefined || n.type.kind !== 'tensor' ? n : { ...n, op: 'input', inputs: [], attrs: { name } };
  });
  return new IrGraph(nodes, g.outputs, g.meta);
}

/** The batch value fed under `feed` (a standard input, the reward stage's result, or one of `extra`). */
export function feedValue(b: RefBatch, feed: string, extra: ExtraFeeds = {}): PyTensor | null {
  const x = extra[feed];
  if (x !== undefined) return { shape: x.shape, data: Array.from(x.data), ...(x.bool === true ? { bool: true } : {}) };
  const tok = [b.B, b.G, b.T];
  const std: Record<string, [number[], Float64Array]> = {
    logp: [tok, b.logp], old_logp: [tok, b.old_logp], ref_logp: [tok, b.ref_logp], mask: [tok, b.mask],
    token_reward: [tok, b.token_reward], old_values: [tok, b.old_values], values: [tok, b.values],
    value_start: [tok, b.value_start], value_end: [tok, b.value_end],
    reward: [[b.B, b.G], b.reward], greedy_reward: [[b.B], b.greedy_reward],
  };
  const key = feed.startsWith('reward.') || feed.startsWith('reward_fn.') ? 'reward' : feed;
  const v = std[key];
  return v === undefined ? null : { shape: v[0], data: Array.from(v[1]) };
}

/** A case calling every stage function in order, each argument fed from the batch or an earlier call. */
export function torchCase(module: string, fns: readonly StageFn[], b: RefBatch, dtype: 'float64' | 'float32', extra: ExtraFeeds = {}): TorchCase {
  const inputs: Record<string, PyTensor> = {};
  const produced = new Set<string>();
  const calls = fns.filter((f) => f.fn !== 'compute_update').map((f) => {
    const args: Record<string, string> = {};
    for (const a of f.args) {
      args[a.name] = a.feed;
      if (produced.has(a.feed)) continue;
      const v = feedValue(b, a.feed, extra);
      if (v === null) throw new Error(`${f.fn}: no batch value for \`${a.feed}\``);
      inputs[a.feed] = v;
    }
    for (const o of f.outputs) produced.add(o);
    return { fn: f.fn, args };
  });
  return { module, dtype, inputs, calls };
}

/** Loss, advantage and d loss / d logp of a pipeline in float64: rlp's reference interpreter, and central differences of it. */
export function interpretFloat64(full: IrGraph, b: RefBatch, extra: ExtraFeeds = {}): { loss: number; advantage: Float64Array | null; grad: Float64Array } {
  const g = rewardsAsInputs(full);
  const inputs = (logp: Float64Array): Record<string, NamedArray> => {
    const out: Record<string, NamedArray> = {};
    for (const n of g.ordered()) {
      if (n.op !== 'input' && n.op !== 'reward_fn') continue;
      const key = n.op === 'input' ? String(n.attrs['name']) : `reward_fn.${String(n.attrs['name'])}`;
      const v = key === 'logp' ? { shape: [b.B, b.G, b.T], data: Array.from(logp) } : feedValue(b, key, extra);
      if (v === null) throw new Error(`no batch value for \`${key}\``);
      out[key] = named(n.type.kind === 'tensor' ? n.type.dims : [], v.shape, v.data);
    }
    return out;
  };
  const adv = advantageOutput(g);
  const run = (logp: Float64Array): Record<string, NamedArray> => interpretOutputs(g, { inputs: inputs(logp) });
  const at = run(b.logp);
  const loss = (logp: Float64Array): number => run(logp)['loss']!.data[0]!;
  const grad = new Float64Array(b.logp.length);
  for (let k = 0; k < b.logp.length; k++) {
    if (b.mask[k] === 0) continue;
    const h = 1e-6 * Math.max(1, Math.abs(b.logp[k]!));
    const up = Float64Array.from(b.logp);
    const dn = Float64Array.from(b.logp);
    up[k]! += h;
    dn[k]! -= h;
    grad[k] = (loss(up) - loss(dn)) / (2 * h);
  }
  return { loss: at['loss']!.data[0]!, advantage: adv === null ? null : at[adv]!.data, grad };
}
