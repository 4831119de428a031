/** Running IR graphs on a TF.js backend in tests, without the batch layer. */
import type { IrGraph } from '../../compiler/ir/graph.js';
import type { Tensor } from '../../compiler/ops/define.js';
import type { TFModule } from '../../runtime/backends/tf.js';
import { runPlan } from '../../runtime/exec/executor.js';
import { buildPlan } from '../../runtime/exec/plan.js';
import type { NamedArray } from '../../runtime/reference/named-array.js';

const DT = { f32: 'float32', i32: 'int32', bool: 'bool' } as const;

function feedsFor(tf: TFModule, g: IrGraph, inputs: Record<string, NamedArray>): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  for (const n of g.ordered()) {
    if (n.op !== 'input' || n.type.kind !== 'tensor') continue;
    const name = String(n.attrs['name']);
    const a = inputs[name]!;
    m.set(name, tf.tensor(Array.from(a.data), [...a.shape], DT[n.type.dtype]));
  }
  return m;
}

function sizesOf(inputs: Record<string, NamedArray>, extra: Record<string, number> = {}): Map<string, number> {
  const s = new Map<string, number>(Object.entries(extra));
  for (const a of Object.values(inputs)) a.dims.forEach((d, i) => s.set(d, a.shape[i]!));
  return s;
}

/** Evaluate output `out` of a graph on TF.js; returns its values as float64. */
export async function runTf(tf: TFModule, backend: string, g: IrGraph, inputs: Record<string, NamedArray>, sizes: Record<string, number> = {}, out = 'loss.y'): Promise<Float64Array> {
  const feeds = feedsFor(tf, g, inputs);
  try {
    const plan = buildPlan(g, [], [out]);
    const y = tf.tidy(() => tf.cast(runPlan(plan, { tf, backend, sizes: sizesOf(inputs, sizes), feeds, params: new Map() }).get(plan.outputs.get(out)!)!, 'float32'));
    const data = Float64Array.from(await y.data());
    y.dispose();
    return data;
  } finally {
    tf.dispose([...feeds.values()]);
  }
}

/** d/d(input `wrt`) of sum(cot * output) on TF.js (plus 0 * sum(input), so a graph that ignores it gives zeros). */
export async function gradTf(tf: TFModule, backend: string, g: IrGraph, inputs: Record<string, NamedArray>, wrt: string, cot: NamedArray, sizes: Record<string, number> = {}, out = 'loss.y'): Promise<Float64Array> {
  const feeds = feedsFor(tf, g, inputs);
  const c = tf.tensor(Array.from(cot.data), [...cot.shape], 'float32');
  try {
    const plan = buildPlan(g, [], [out]);
    const gr = tf.grad((x: Tensor) => {
      const f = new Map(feeds);
      // Through an intermediate op, so the op under test sees a non-leaf input (some TF.js
      // gradients only break then).
      f.set(wrt, tf.mul(x, 1));
      const y = runPlan(plan, { tf, backend, sizes: sizesOf(inputs, sizes), feeds: f, params: new Map() }).get(plan.outputs.get(out)!)!;
      return tf.add(tf.sum(tf.mul(tf.cast(y, 'float32'), c)), tf.mul(tf.sum(x), 0));
    })(feeds.get(wrt)!);
    const data = Float64Array.from(await gr.data());
    gr.dispose();
    return data;
  } finally {
    tf.dispose([c, ...feeds.values()]);
  }
}
