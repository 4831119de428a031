/**
 * The metrics of a preference step, from the pipeline's own bindings: `chosen_reward`,
 * `rejected_reward` (per pair, `f32[B]`) and `margin` (their difference, when the pipeline binds
 * it), evaluated before the step's update as TRL reports them; accuracy is the fraction of pairs
 * with a positive margin. A pipeline without these bindings logs none of them. `kl` is measured:
 * the mean over the pairs' completion tokens of logp - ref_logp under the policy before the update.
 */
import { makeSource, span } from '../../grammar/source.js';
import type { TFModule } from '../backends/tf.js';
import { evaluate } from '../eval/evaluate.js';
import type { CompiledProgram } from '../exec/program.js';
import type { Metrics } from './options.js';

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length === 0 ? 0 : s / xs.length;
}

/** Evaluate the pipeline's reported bindings on the step's pairs (logp = the policy before the update). */
export async function preferenceMetrics(
  tf: TFModule, backend: string, program: CompiledProgram, params: ReadonlyMap<string, number | boolean>,
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
  const { chosen: c, rejected: r, margin: m } = program.metrics.preference;
  if (c === null && r === null && m === null) return out;
  // The pairs feed the standard inputs the pipeline reads; one that needs anything else reports nothing.
  const feeds = Object.entries({ logp: b.logp, old_logp: b.logp, ref_logp: b.refLogp, mask: b.mask }).filter(([name]) => program.feedable.has(name));
  const here = span(makeSource('<step>', ''), 0, 0);
  const entries = feeds.map(([name, data]) => ({ name, tensor: { shape, data: Float64Array.from(data) }, span: here }));
  const plan = program.plan(entries.map((e) => e.name), program.outputs.filter((o) => o.dtype !== null).map((o) => o.name));
  if (program.unfed(plan).length > 0) return out;
  const values = await evaluate(tf, backend, { plan, sizes: new Map([['B', b.B], ['G', b.G], ['T', b.R]]), params: new Map(params), entries }, []);
  const get = (name: string | null): Float64Array | null => (name === null || values[name] === undefined ? null : Float64Array.from(values[name]!.data));
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
