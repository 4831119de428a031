/**
 * Which charts a run report draws, from the metrics a run logged (TRL's names): reward and its
 * std, each reward function's mean, KL, entropy, clip ratios, lengths, loss, grad norm, tokens/s,
 * then every other logged metric grouped by its prefix.
 */

/** One line of metrics.jsonl. */
export type MetricsRow = Readonly<Record<string, number>>;

/** One chart: its title, and one series of values (null where a step has none) per metric. */
export interface ChartSpec {
  readonly title: string;
  readonly series: readonly { readonly label: string; readonly values: readonly (number | null)[] }[];
}

/** Named charts, in the order they are shown: a title and the metrics it plots (by name or pattern). */
const NAMED: readonly { readonly title: string; readonly keys: (k: string) => boolean }[] = [
  { title: 'reward', keys: (k) => k === 'reward' || k === 'reward_std' },
  { title: 'reward functions (mean)', keys: (k) => /^rewards\/[^/]+\/mean$/.test(k) },
  { title: 'preference rewards', keys: (k) => ['rewards/chosen', 'rewards/rejected', 'rewards/margins'].includes(k) },
  { title: 'preference accuracy', keys: (k) => k === 'rewards/accuracies' },
  { title: 'KL to the reference', keys: (k) => k === 'kl' },
  { title: 'entropy', keys: (k) => k === 'entropy' },
  { title: 'clip ratios', keys: (k) => k.startsWith('clip_ratio/') },
  { title: 'completion lengths', keys: (k) => k.startsWith('completions/') },
  { title: 'loss', keys: (k) => k === 'loss' },
  { title: 'gradient norm', keys: (k) => k === 'grad_norm' },
];

/** Shown as tokens/s, or not worth a chart. */
const SKIPPED = new Set(['step', 'num_tokens']);

/** Tokens per second of each step: the step's new tokens over its time. */
export function tokensPerSecond(rows: readonly MetricsRow[]): (number | null)[] {
  return rows.map((r, i) => {
    const before = i === 0 ? 0 : rows[i - 1]!['num_tokens'] ?? 0;
    const n = r['num_tokens'];
    const t = r['step_time'];
    return n === undefined || t === undefined || !(t > 0) ? null : (n - before) / t;
  });
}

const seriesOf = (rows: readonly MetricsRow[], k: string): (number | null)[] => rows.map((r) => (typeof r[k] === 'number' && Number.isFinite(r[k]) ? r[k]! : null));

/** The charts of a run's metrics; every chart has one value (or null) per row. */
export function chartSpecs(rows: readonly MetricsRow[]): ChartSpec[] {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => !SKIPPED.has(k) && rows.some((r) => typeof r[k] === 'number'));
  const used = new Set<string>();
  const charts: ChartSpec[] = [];
  for (const c of NAMED) {
    const ks = keys.filter(c.keys).sort();
    if (ks.length === 0) continue;
    ks.forEach((k) => used.add(k));
    charts.push({ title: c.title, series: ks.map((k) => ({ label: k, values: seriesOf(rows, k) })) });
  }
  if (rows.some((r) => r['num_tokens'] !== undefined && r['step_time'] !== undefined)) {
    charts.push({ title: 'throughput (tokens/s)', series: [{ label: 'tokens/s', values: tokensPerSecond(rows) }] });
    used.add('step_time');
  }
  const rest = new Map<string, string[]>();
  for (const k of keys.filter((x) => !used.has(x))) {
    const group = k.includes('/') ? k.slice(0, k.indexOf('/')) : k;
    rest.set(group, [...(rest.get(group) ?? []), k]);
  }
  for (const [group, ks] of [...rest].sort(([a], [b]) => a.localeCompare(b))) {
    charts.push({ title: group, series: ks.sort().map((k) => ({ label: k, values: seriesOf(rows, k) })) });
  }
  return charts;
}
