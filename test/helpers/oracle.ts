/**
 * The float64 oracle of a pipeline on a batch: the reference interpreter (each op's reference
 * semantics, float64, no TF.js) on the unoptimized graph, and central differences of its loss for
 * gradients. Used where two evaluations of a pipeline disagree, to say which one is off.
 */
import type { IrGraph } from '../../compiler/ir/graph.js';
import type { BatchEntry } from '../../runtime/batch/read.js';
import { advantageOutput } from '../../runtime/eval/evaluate.js';
import { feedableNames } from '../../runtime/exec/plan.js';
import { interpretOutputs } from '../../runtime/reference/interpreter.js';
import { named, type NamedArray } from '../../runtime/reference/named-array.js';

/** The oracle of one graph, batch and param values. */
export interface Oracle {
  /** An output by the name `evaluate` gives it (`loss`, `advantage`, `reward.reward`...). */
  value(name: string): Float64Array | undefined;
  /** d loss / d `input` at flat index `i`, by central differences in float64. */
  grad(input: string, i: number): number;
}

/** The oracle of `g` on these entries (fed by name, as `validateBatch` takes them) and params. */
export function oracle(g: IrGraph, entries: readonly BatchEntry[], params: ReadonlyMap<string, number | boolean>): Oracle {
  const feedable = feedableNames(g);
  const inputs: Record<string, NamedArray> = {};
  for (const e of entries) {
    const id = feedable.get(e.name);
    if (id === undefined) continue;
    const t = g.node(id).type;
    inputs[e.name] = named(t.kind === 'tensor' ? t.dims : [], e.tensor.shape, e.tensor.data);
  }
  const ps = Object.fromEntries(params);
  const run = (feed: Record<string, NamedArray>): Record<string, NamedArray> => interpretOutputs(g, { inputs: feed, params: ps });
  const base = run(inputs);
  const adv = advantageOutput(g);
  return {
    value: (name) => {
      const v = base[name === 'advantage' && adv !== null ? adv : name];
      return v === undefined ? undefined : Float64Array.from(v.data);
    },
    grad: (input, i) => {
      const x = inputs[input]!;
      const h = 1e-6 * Math.max(1, Math.abs(x.data[i]!));
      const at = (d: number): number => {
        const data = Float64Array.from(x.data);
        data[i]! += d;
        return run({ ...inputs, [input]: named(x.dims, x.shape, data) })['loss']!.data[0]!;
      };
      return (at(h) - at(-h)) / (2 * h);
    },
  };
}
