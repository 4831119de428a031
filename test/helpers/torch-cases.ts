/** Building torch-runner cases from a reference batch and an export's function signatures. */
import type { IrGraph } from '../../compiler/ir/graph.js';
import type { StageFn } from '../../compiler/torch/export.js';
import { advantageOutput } from '../../runtime/eval/evaluate.js';
import { interpretOutputs } from '../../runtime/reference/interpreter.js';
import { named, type NamedArray } from '../../runtime/reference/named-array.js';
import type { RefBatch } from './references.js';
import type { PyTensor, TorchCase } from './torch.js';

/** The batch value fed under `feed` (a standard input, or the reward stage's result). */
export function feedValue(b: RefBatch, feed: string): PyTensor | null {
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
export function torchCase(module: string, fns: readonly StageFn[], b: RefBatch, dtype: 'float64' | 'float32'): TorchCase {
  const inputs: Record<string, PyTensor> = {};
  const produced = new Set<string>();
  const calls = fns.filter((f) => f.fn !== 'compute_update').map((f) => {
    const args: Record<string, string> = {};
    for (const a of f.args) {
      args[a.name] = a.feed;
      if (produced.has(a.feed)) continue;
      const v = feedValue(b, a.feed);
      if (v === null) throw new Error(`${f.fn}: no batch value for \`${a.feed}\``);
      inputs[a.feed] = v;
    }
    for (const o of f.outputs) produced.add(o);
    return { fn: f.fn, args };
  });
  return { module, dtype, inputs, calls };
}

/** Loss, advantage and d loss / d logp of a pipeline in float64: rlp's reference interpreter, and central differences of it. */
export function interpretFloat64(g: IrGraph, b: RefBatch): { loss: number; advantage: Float64Array | null; grad: Float64Array } {
  const inputs = (logp: Float64Array): Record<string, NamedArray> => {
    const out: Record<string, NamedArray> = {};
    for (const n of g.ordered()) {
      if (n.op !== 'input' && n.op !== 'reward_fn') continue;
      const key = n.op === 'input' ? String(n.attrs['name']) : `reward_fn.${String(n.attrs['name'])}`;
      const v = key === 'logp' ? { shape: [b.B, b.G, b.T], data: Array.from(logp) } : feedValue(b, key);
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
