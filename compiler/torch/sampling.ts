/**
 * What an export leaves to the trainer's generator: the sample stage's settings, and the sampling
 * features that need rlp's own generator (refilled groups, prompt suffixes, hints, forced
 * prefixes, continuations), which a PyTorch trainer does not reproduce.
 */
import type { Span } from '../../grammar/source.js';
import type { IrGraph, IrNode } from '../ir/graph.js';
import { opByName } from '../ops/index.js';
import { pyLiteral } from '../ops/sources.js';

/** The sample stage as the export's header and warnings describe it. */
export interface SamplingNotes {
  /** `rollout(n = group (8), temperature = 1.0, max_tokens = 64)`, or a note that there is none. */
  readonly summary: string;
  /** One line per feature that needs rlp's generator and is switched on. */
  readonly notExported: readonly string[];
  readonly span: Span | null;
}

/** What each generator-only feature does, by the rollout input that switches it on. */
const FEATURES: Readonly<Record<string, string>> = {
  dynamic: 'dynamic sampling (groups whose rewards are all equal are dropped and refilled; verl: `algorithm.filter_groups`)',
  suffixes: 'prompt suffixes per subgroup (HBPO budgets, the `variant` input)',
  reset: 'forced dataset prefixes (DR-PO roll-in, the `forced` input)',
  hint_from: 'hinted resampling of groups that all fail (GHPO, the `hint_level` input)',
  continuations: 'continuations from segment cuts (SPO values `value_start`/`value_end`)',
};

function describe(g: IrGraph, n: IrNode): { text: string; value: unknown } {
  if (n.op === 'param') {
    const p = g.meta.params.find((x) => x.name === n.attrs['name']);
    return { text: `${String(n.attrs['name'])} (${p?.default === null || p === undefined ? 'no default' : pyLiteral(p.default, p.type === 'float')})`, value: p?.default };
  }
  if (n.op === 'const') return { text: pyLiteral(n.attrs['value']!, false), value: n.attrs['value'] };
  return { text: `%${n.id}`, value: null };
}

/** Describe the sample stage of a graph. */
export function samplingNotes(g: IrGraph): SamplingNotes {
  const rollouts = g.ordered().filter((n) => n.op === 'rollout');
  if (rollouts.length === 0) return { summary: 'none (the pipeline has no sample stage)', notExported: [], span: null };
  const op = opByName('rollout')!;
  const summaries: string[] = [];
  const off: string[] = [];
  for (const r of rollouts) {
    const parts: string[] = [];
    r.inputs.forEach((id, k) => {
      const spec = op.inputs[k]!;
      const d = describe(g, g.node(id));
      const isDefault = spec.default !== undefined && d.value === spec.default;
      if (!isDefault) parts.push(`${spec.name} = ${d.text}`);
      const feature = FEATURES[spec.name];
      if (feature !== undefined && !isDefault && d.value !== 0 && d.value !== false && d.value !== '') off.push(feature);
    });
    summaries.push(`rollout(${parts.join(', ')})`);
  }
  return { summary: summaries.join('; '), notExported: off, span: rollouts[0]!.spans[0] ?? null };
}
