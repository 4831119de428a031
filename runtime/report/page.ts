/**
 * The run report: one self-contained HTML file (no network at view time) with charts of the
 * metrics (uPlot, inlined), a table of sample completions, the pipeline graph and the run manifest.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { escapeHtml, GRAPH_CSS, OFFLINE_CSP, scriptJson } from '../viz/html.js';
import { inlineSvg } from '../viz/svg.js';
import type { SampleRow } from '../train/samples.js';
import { chartSpecs } from './charts.js';
import type { RunRecord } from './read.js';
import { REPORT_SCRIPT } from './report-script.js';

/** uPlot's script and stylesheet, read from its package to be inlined. */
function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  const read = (f: string): string => readFileSync(require.resolve(`uplot/dist/${f}`), 'utf8');
  return { js: read('uPlot.iife.min.js'), css: read('uPlot.min.css') };
}

/** The version of an installed package (read from its package.json; the package is not loaded), or null. */
function installedVersion(pkg: string): string | null {
  try {
    const require = createRequire(import.meta.url);
    return String((JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version?: unknown }).version ?? '') || null;
  } catch {
    return null;
  }
}

const inlineScript = (js: string): string => js.replace(/<\/script/gi, '<\\/script');

const CSS = `
body { margin: 0 auto; max-width: 1280px; padding: 12px 20px 40px; font: 14px/1.4 system-ui, sans-serif; color: #1f2328; }
h1 { font-size: 20px; } h2 { font-size: 16px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 28px; }
nav a { margin-right: 14px; }
#charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 12px; }
.chart { border: 1px solid #e1e4e8; border-radius: 6px; padding: 4px; min-height: 240px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #e1e4e8; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-family: monospace; white-space: nowrap; }
td.text { font-family: monospace; white-space: pre-wrap; max-width: 420px; }
#graph-box { height: 640px; border: 1px solid #e1e4e8; border-radius: 6px; overflow: auto; }
#graph-box svg { max-width: 100%; height: auto; }
.muted { color: #57606a; }
`;

const num = (x: number | null): string => (x === null || Number.isNaN(x) ? '-' : String(Number(x.toPrecision(4))));

function samplesTable(rows: readonly SampleRow[]): string {
  if (rows.length === 0) return '<p class="muted">This run recorded no sample completions (samples.jsonl).</p>';
  const steps = [...new Set(rows.map((r) => r.step))];
  const fns = [...new Set(rows.flatMap((r) => Object.keys(r.rewards)))].sort();
  const head = ['step', 'group', 'prompt', 'completion', 'reward', ...fns.map((f) => `${f}`), 'advantage'];
  const body = rows.map((r) => `<tr data-step="${r.step}"><td class="num">${r.step}</td><td class="num">${r.group}${r.role !== undefined ? ` ${escapeHtml(r.role)}` : ''}</td>`
    + `<td class="text">${escapeHtml(r.prompt)}</td><td class="text">${escapeHtml(r.completion)}</td><td class="num">${num(r.reward)}</td>`
    + fns.map((f) => `<td class="num">${num(r.rewards[f] ?? null)}</td>`).join('') + `<td class="num">${num(r.advantage)}</td></tr>`).join('\n');
  return `<p><label>step <select id="step-filter"><option value="">all</option>${steps.map((s) => `<option value="${s}">${s}</option>`).join('')}</select></label>
<span class="muted">the first groups of each step; reward is the reward stage's value, advantage the loss's (mean over tokens when per token)</span></p>
<table id="samples-table"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>
${body}
</tbody></table>`;
}

function manifest(config: Readonly<Record<string, unknown>>, version: string): string {
  const cell = (v: unknown): string => escapeHtml(typeof v === 'string' ? v : JSON.stringify(v));
  const rows = Object.entries(config).map(([k, v]) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const inner = Object.entries(v as Record<string, unknown>).map(([ik, iv]) => `<tr><td>${escapeHtml(ik)}</td><td class="text">${cell(iv)}</td></tr>`).join('');
      return `<tr><th>${escapeHtml(k)}</th><td><table>${inner}</table></td></tr>`;
    }
    return `<tr><th>${escapeHtml(k)}</th><td class="text">${cell(v)}</td></tr>`;
  });
  const tf = installedVersion('@tensorflow/tfjs-core');
  return `<table id="manifest-table">${rows.join('\n')}<tr><th>report</th><td class="text">written by rlp ${escapeHtml(version)}${tf !== null ? ` (TF.js ${escapeHtml(tf)} installed)` : ''}</td></tr></table>`;
}

/** The whole report page. `graphSvg` is the pipeline's drawing, or a sentence saying why there is none. */
export function reportPage(run: RunRecord, graph: { svg: string } | { missing: string }, version: string): string {
  const pipeline = String(run.config['pipeline'] ?? 'run');
  const charts = chartSpecs(run.metrics);
  const steps = run.metrics.map((r, i) => r['step'] ?? i + 1);
  const { js, css } = uplotAssets();
  const last = run.metrics[run.metrics.length - 1];
  const headline = last === undefined ? 'no steps logged yet' : `${run.metrics.length} steps logged; last step ${last['step'] ?? '?'}: loss ${num(last['loss'] ?? null)}${last['reward'] !== undefined ? `, reward ${num(last['reward'])}` : ''}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${OFFLINE_CSP}">
<title>rlp report: ${escapeHtml(pipeline)}</title>
<style>${css}${CSS}${GRAPH_CSS}</style></head>
<body>
<h1>rlp run report: ${escapeHtml(pipeline)}</h1>
<p class="muted">${escapeHtml(run.dir)} &middot; ${escapeHtml(headline)}</p>
<nav><a href="#charts-h">metrics</a><a href="#samples-h">completions</a><a href="#graph-h">pipeline</a><a href="#manifest-h">manifest</a></nav>
<h2 id="charts-h">metrics</h2>
<div id="charts">${charts.map((c) => `<div class="chart" data-title="${escapeHtml(c.title)}"></div>`).join('')}</div>
${charts.length === 0 ? '<p class="muted">No metrics logged (metrics.jsonl is empty).</p>' : ''}
<h2 id="samples-h">sample completions</h2>
${samplesTable(run.samples)}
<h2 id="graph-h">pipeline</h2>
<div id="graph-box">${'svg' in graph ? inlineSvg(graph.svg) : `<p class="muted">${escapeHtml(graph.missing)}</p>`}</div>
<h2 id="manifest-h">run manifest (config.json)</h2>
${manifest(run.config, version)}
<script type="application/json" id="rlp-report">${scriptJson({ steps, charts })}</script>
<script>${inlineScript(js)}</script>
<script>${REPORT_SCRIPT}</script>
</body></html>
`;
}
