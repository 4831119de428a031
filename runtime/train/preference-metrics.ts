/**
 * The metrics of a preference step, from the pipeline's own bindings: `chosen_reward`,
 * `rejected_reward` (per pair, `f32[B]`) and `margin` (their difference, when the pipeline binds
 * it), evaluated before the step's update as TRL reports them; accuracy is the fraction of pairs
 * with a positive margin. A pipeline without these bindings logs none of them. `kl` is measured:
 * the mean over the pairs' completion tokens of logp - ref_logp under the policy before the update.
 */
import { makeSource, span } from '../../grammar/source.js';
import type { IrGraph } from '../../compiler/ir/graph.js';
import type { TFModule } from '../backends/tf.js';
import { evaluate } from '../eval/evaluate.js';
import { validateBatch } from '../eval/validate.js';
import type { Metrics } from './options.js';

/** The binding names a preference pipeline reports, as documented. */
export const PREFERENCE_METRIC_BINDINGS = Object.freeze(['chosen_reward', 'rejected_reward', 'margin']);

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length === 0 ? 0 : s / xs.length;
}

/** Evaluate the pipeline's reported bindings on the step's pairs (logp = the policy before the update). */
export async function preferenceMetrics(
  tf: TFModule, backend: string, g: IrGraph, params: ReadonlyMap<string, number | boolean>,
  b: { B: number; G: number; R: number; logp: Float32Array; refLogp: Float32Array; mask: Float32Array },
): Promise<Metrics> {
  const shape = [b.B, b.G, b.R];
  let kl = 0;
  let n = 0;
  for (let i = 0; i < b.mask.length; i++) if (b.mask[i]! > 0) {
    kl += b.logp[i]! - b.refLogp[i]!;
    n++;
  }
  const out: Metrics = { kl: n === 0 ? 0 : kl / n };
  const has = (name: string): string | undefined => g.outputs.find((o) => o.name.endsWith(`.${name}`))?.name;
  const [c, r, m] = PREFERENCE_METRIC_BINDINGS.map(has);
  if (c === undefined && r === undefined && m === undefined) return out;
  const here = span(makeSource('<step>', ''), 0, 0);
  const feeds = { logp: b.logp, old_logp: b.logp, ref_logp: b.refLogp, mask: b.mask };
  const entries = Object.entries(feeds).map(([name, data]) => ({ name, tensor: { shape, data: Float64Array.from(data) }, span: here }));
  const set = Object.fromEntries([...params].map(([k, v]) => [k, String(v)]));
  const v = validateBatch(g, entries, { set, grad: [], allowNonfinite: true, fileSpan: here });
  if (v.valid === null) return out;
  const values = await evaluate(tf, backend, v.valid, []);
  const get = (name: string | undefined): Float64Array | null => (name === undefined || values[name] === undefined ? null : Float64Array.from(values[name]!.data));
  const chosen = get(c);
  const rejected = get(r);
  const margin = get(m) ?? (chosen !== null && rejected !== null ? chosen.map((x, i) => x - rejected[i]!) : null);
  if (chosen !== null) out['rewards/chosen'] = mean(chosen);
  if (rejected !== null) out['rewards/rejected'] = mean(rejected);
  if (margin !== null) {
    out['rewards/margins'] = mean(margin);
    out['rewards/accuracies'] = margin.filter((x) => x > 0).length / Math.max(1, margin.length);
  }
  return out;
}
