/**
 * Batch-mode evaluation: run a validated plan on a TF.js backend, returning every named value,
 * the loss, the advantage, and gradients of the loss with respect to fed values.
 */
import type { Tensor } from '../../compiler/ops/define.js';
import { dependsOn, type IrGraph } from '../../compiler/ir/graph.js';
import { STAGES } from '../../compiler/check/inputs.js';
import type { TFModule } from '../backends/tf.js';
import type { HostTensor } from '../batch/read.js';
import { runPlan, type RunEnv } from '../exec/executor.js';
import type { ValidBatch } from './validate.js';

/** Results by name: `loss`, `advantage`, `stage.binding`, `update.name`, `grad.NAME`. */
export type EvalOutputs = Record<string, HostTensor>;

const TF_DTYPE = { f32: 'float32', i32: 'int32', bool: 'bool' } as const;

/** The name of the advantage stage's result: its last binding. */
export function advantageOutput(g: IrGraph): string | null {
  const adv = g.outputs.filter((o) => o.name.startsWith('advantage.'));
  return adv.length === 0 ? null : adv[adv.length - 1]!.name;
}


/** Evaluate a validated batch. Every tensor it makes is disposed before it returns. */
export async function evaluate(tf: TFModule, backend: string, vb: ValidBatch, grad: readonly string[]): Promise<EvalOutputs> {
  const g = vb.plan.graph;
  const feeds = new Map<string, Tensor>();
  for (const e of vb.entries) {
    const n = g.node(vb.plan.fed.get(e.name)!);
    const dtype = n.type.kind === 'tensor' ? TF_DTYPE[n.type.dtype] : 'float32';
    feeds.set(e.name, tf.tensor(Array.from(e.tensor.data), [...e.tensor.shape], dtype));
  }
  const env = (f: Map<string, Tensor>): RunEnv => ({ tf, backend, sizes: vb.sizes, feeds: f, params: vb.params });
  const kept = new Map<string, Tensor>();
  const keepOutputs = (vals: Map<number, Tensor>): void => {
    for (const [name, id] of vb.plan.outputs) {
      const v = vals.get(id);
      if (v !== undefined && !kept.has(name)) kept.set(name, tf.keep(v));
    }
  };
  try {
    const lossId = vb.plan.outputs.get('loss');
    const targets = grad.filter((name) => lossId !== undefined && dependsOn(g, lossId, vb.plan.fed.get(name)!));
    if (grad.length > 0 && lossId !== undefined && targets.length > 0) {
      const xs = targets.map((t) => feeds.get(t)!);
      const { value, grads } = tf.valueAndGrads((...args: Tensor[]) => {
        const f = new Map(feeds);
        targets.forEach((t, i) => f.set(t, args[i]!));
        const vals = runPlan(vb.plan, env(f));
        keepOutputs(vals);
        return vals.get(lossId) as ReturnType<typeof tf.scalar>;
      })(xs);
      if (value !== kept.get('loss')) value.dispose();
      targets.forEach((t, i) => kept.set(`grad.${t}`, grads[i]!));
    } else {
      tf.tidy(() => keepOutputs(runPlan(vb.plan, env(feeds))));
    }
    for (const t of grad) if (!kept.has(`grad.${t}`)) kept.set(`grad.${t}`, tf.zerosLike(feeds.get(t)!));
    return await readOutputs(g, kept);
  } finally {
    tf.dispose([...kept.values()]);
    tf.dispose([...feeds.values()]);
  }
}

async function readOutputs(g: IrGraph, kept: Map<string, Tensor>): Promise<EvalOutputs> {
  const out: EvalOutputs = {};
  const read = async (t: Tensor): Promise<HostTensor> => ({ shape: [...t.shape], data: Float64Array.from(await t.data()) });
  if (kept.has('loss')) out['loss'] = await read(kept.get('loss')!);
  const adv = advantageOutput(g);
  if (adv !== null && kept.has(adv)) out['advantage'] = await read(kept.get(adv)!);
  const order = (n: string): number => {
    const stage = n.slice(0, n.indexOf('.'));
    const i = [...STAGES, 'update', 'grad'].indexOf(stage);
    return i < 0 ? 99 : i;
  };
  const names = [...kept.keys()].filter((k) => k !== 'loss').sort((a, b) => order(a) - order(b));
  for (const k of names) out[k] = await read(kept.get(k)!);
  return out;
}
