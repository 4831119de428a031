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
import { uploadHost } from '../exec/host-steps.js';
import { buildPlan, type PlanStep } from '../exec/plan.js';
import type { ValidBatch } from './validate.js';

/** Results by name: `loss`, `advantage`, `stage.binding`, `update.name`, `grad.NAME`. */
export type EvalOutputs = Record<string, HostTensor>;

const TF_DTYPE = { f32: 'float32', i32: 'int32', bool: 'bool' } as const;

/** The name of the advantage stage's result: its last binding. */
export function advantageOutput(g: IrGraph): string | null {
  const adv = g.outputs.filter((o) => o.name.startsWith('advantage.'));
  return adv.length === 0 ? null : adv[adv.length - 1]!.name;
}


/** Timing of repeated evaluations (`rlp eval --repeat N`): compute only, in milliseconds. */
export interface EvalTiming {
  readonly ms: number;
  readonly min_ms: number;
  readonly n: number;
}

/** Options of an evaluation. */
export interface EvaluateOptions {
  /** After the first run, compute (loss and gradients) this many more times on the uploaded batch and time each. */
  readonly repeat?: number;
  /** Called with the timing when `repeat` is given. */
  readonly onTiming?: (t: EvalTiming) => void;
  /** Called with each timed run's milliseconds (the bench pools runs of several evaluations). */
  readonly onRun?: (ms: number) => void;
}

/** Upload every fed entry of a validated batch, as its node's dtype. */
export function uploadFeeds(tf: TFModule, vb: ValidBatch): Map<string, Tensor> {
  const feeds = new Map<string, Tensor>();
  for (const e of vb.entries) {
    const n = vb.plan.graph.node(vb.plan.fed.get(e.name)!);
    feeds.set(e.name, uploadHost(tf, e.tensor, n.type.kind === 'tensor' ? TF_DTYPE[n.type.dtype] : 'float32'));
  }
  return feeds;
}

/** Evaluate a validated batch. Every tensor it makes is disposed before it returns. */
export async function evaluate(tf: TFModule, backend: string, vb: ValidBatch, grad: readonly string[], opts: EvaluateOptions = {}): Promise<EvalOutputs> {
  const g = vb.plan.graph;
  const feeds = uploadFeeds(tf, vb);
  let kept = new Map<string, Tensor>();
  try {
    kept = compute(tf, backend, vb, grad, feeds);
    if (opts.repeat !== undefined && opts.repeat > 0) {
      // Timed runs compute the loss and the requested gradients only, not every binding.
      const lossOnly: ValidBatch = vb.plan.outputs.has('loss') ? { ...vb, plan: buildPlan(g, [...vb.plan.fed.keys()], ['loss'], { hostSmall: vb.plan.hostSmall }) } : vb;
      const times: number[] = [];
      for (let i = 0; i < opts.repeat; i++) {
        const t0 = performance.now();
        const again = compute(tf, backend, lossOnly, grad, feeds);
        await syncAll(again, backend);
        times.push(performance.now() - t0);
        opts.onRun?.(times[times.length - 1]!);
        disposeOutputs(tf, again, feeds);
      }
      times.sort((a, b) => a - b);
      opts.onTiming?.({ ms: times[Math.floor((times.length - 1) / 2)]!, min_ms: times[0]!, n: times.length });
    }
    return await readOutputs(g, kept);
  } finally {
    tf.dispose([...kept.values()]);
    tf.dispose([...feeds.values()]);
  }
}

/** Dispose what `compute` returned, except the fed tensors themselves (an output may be a feed). */
export function disposeOutputs(tf: TFModule, outs: ReadonlyMap<string, Tensor>, feeds: ReadonlyMap<string, Tensor>): void {
  const fed = new Set(feeds.values());
  tf.dispose([...outs.values()].filter((t) => !fed.has(t)));
}

/**
 * Wait until every value is computed (a device backend queues work): read one element of each.
 * The host backends (cpu, wasm) compute synchronously: their values are ready on return (and a
 * slice there reads the whole tensor back).
 */
async function syncAll(vals: Map<string, Tensor>, backend: string): Promise<void> {
  if (backend === 'cpu' || backend === 'wasm') return;
  for (const t of vals.values()) {
    if (t.size === 0) continue;
    const one = t.rank === 0 ? t.clone() : t.slice(new Array(t.rank).fill(0), new Array(t.rank).fill(1));
    await one.data();
    one.dispose();
  }
}

/**
 * One run of the plan (and the requested gradients) on uploaded feeds; returns the kept outputs
 * (the caller disposes them). `onStep` sees each computed plan step before it runs, then null
 * when the backward pass starts.
 */
export function compute(tf: TFModule, backend: string, vb: ValidBatch, grad: readonly string[], feeds: ReadonlyMap<string, Tensor>, onStep?: (step: PlanStep | null) => void): Map<string, Tensor> {
  const g = vb.plan.graph;
  const gradTargets = new Set(grad);
  const hostFeeds = new Map(vb.entries.map((e) => [e.name, e.tensor]));
  const env = (f: Map<string, Tensor>): RunEnv => ({ tf, backend, sizes: vb.sizes, feeds: f, params: vb.params, gradTargets, hostFeeds, ...(onStep !== undefined ? { onStep } : {}) });
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
        onStep?.(null);
        return vals.get(lossId) as ReturnType<typeof tf.scalar>;
      })(xs);
      if (value !== kept.get('loss')) value.dispose();
      targets.forEach((t, i) => kept.set(`grad.${t}`, grads[i]!));
    } else {
      tf.tidy(() => keepOutputs(runPlan(vb.plan, env(new Map(feeds)))));
    }
    for (const t of grad) if (!kept.has(`grad.${t}`)) kept.set(`grad.${t}`, tf.zerosLike(feeds.get(t)!));
    return kept;
  } catch (e) {
    tf.dispose([...kept.values()]);
    throw e;
  }
}

async function readOutputs(g: IrGraph, kept: Map<string, Tensor>): Promise<EvalOutputs> {
  const out: EvalOutputs = {};
  // Each tensor is read back from the backend once, even when two names share it (the advantage).
  const done = new Map<Tensor, HostTensor>();
  const read = async (t: Tensor): Promise<HostTensor> => {
    const hit = done.get(t);
    if (hit !== undefined) return hit;
    const h = { shape: [...t.shape], data: Float64Array.from(await t.data()) };
    done.set(t, h);
    return h;
  };
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
