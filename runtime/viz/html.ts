/**
 * One self-contained HTML page for `rlp viz -o OUT.html`: the SVG of each view inlined, the node
 * details as JSON, and a small script; no network at view time (a Content-Security-Policy forbids it).
 */
import type { NodeInfo, VizGraph } from './model.js';
import { PAGE_SCRIPT } from './page-script.js';
import { inlineSvg } from './svg.js';

/** One view of the page: its name on the switch, the drawing, and its rendered SVG. */
export interface PageView {
  readonly name: string;
  readonly graph: VizGraph;
  readonly svg: string;
}

/** Escape text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** JSON that can sit inside a <script> element. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

/** The Content-Security-Policy of rlp's pages: inline styles, scripts and images only, nothing fetched. */
export const OFFLINE_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/** The graph page's styles (also used by the report's graph section). */
export const GRAPH_CSS = `
#canvas { position: relative; overflow: hidden; background: #fff; cursor: grab; }
#canvas.dragging { cursor: grabbing; }
#canvas .view { width: 100%; height: 100%; }
#canvas svg { width: 100%; height: 100%; display: block; }
g.node { cursor: pointer; }
g.node.selected > polygon, g.node.selected > path, g.node.selected > ellipse { stroke: #d35400; stroke-width: 3px; }
g.node.hit > polygon, g.node.hit > path, g.node.hit > ellipse { stroke: #1a73e8; stroke-width: 3px; }
g.node.dim { opacity: 0.35; }
`;

const PAGE_CSS = `
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #1f2328; height: 100vh; display: flex; flex-direction: column; }
header { display: flex; gap: 10px; align-items: center; padding: 8px 12px; border-bottom: 1px solid #d0d7de; background: #f6f8fa; }
header h1 { font-size: 16px; margin: 0 12px 0 0; }
button { font: inherit; padding: 2px 10px; border: 1px solid #d0d7de; border-radius: 6px; background: #fff; cursor: pointer; }
button.on { background: #1f2328; color: #fff; }
#search { font: inherit; padding: 3px 8px; width: 220px; border: 1px solid #d0d7de; border-radius: 6px; }
main { flex: 1; display: flex; min-height: 0; }
#canvas { flex: 1; }
#info { width: 380px; overflow: auto; padding: 10px 14px; border-left: 1px solid #d0d7de; background: #fbfcfd; }
#info h2 { font-size: 15px; margin: 4px 0 8px; font-family: monospace; }
#info dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0; }
#info dt { color: #57606a; } #info dd { margin: 0; font-family: monospace; }
#info pre.line { background: #f0f3f6; padding: 4px 6px; margin: 4px 0; white-space: pre-wrap; font-size: 12px; }
#info code.text { display: block; background: #fff8c5; padding: 3px 6px; white-space: pre-wrap; font-size: 12px; }
#info .loc { color: #57606a; font-size: 12px; margin-top: 8px; }
#info ul.notes { padding-left: 18px; margin: 8px 0; }
`;

/** The details of each node of a drawing, by node id, for the page's script. */
export function nodeData(g: VizGraph): Record<string, NodeInfo & { search: readonly string[] }> {
  return Object.fromEntries(g.nodes.map((n) => [n.id, { ...n.info, search: n.search }]));
}

/** The `<div class="view">` holding one view's SVG. */
export function viewDiv(v: PageView, hidden: boolean): string {
  return `<div class="view" data-view="${escapeHtml(v.name)}"${hidden ? ' hidden' : ''}>${inlineSvg(v.svg)}</div>`;
}

/** A whole page with these views; `initial` is the view shown first. */
export function graphPage(title: string, views: readonly PageView[], initial: string): string {
  const data = Object.fromEntries(views.map((v) => [v.name, nodeData(v.graph)]));
  const switches = views.length > 1 ? views.map((v) => `<button data-view="${escapeHtml(v.name)}">${escapeHtml(v.name)}</button>`).join('') : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${OFFLINE_CSP}">
<title>${escapeHtml(title)}</title>
<style>${PAGE_CSS}${GRAPH_CSS}</style></head>
<body data-initial="${escapeHtml(initial)}">
<header><h1>${escapeHtml(title)}</h1>${switches}<input id="search" type="search" placeholder="search bindings (Enter: go)" aria-label="search"><span id="hits"></span><button id="fit">fit</button></header>
<main><div id="canvas">${views.map((v) => viewDiv(v, v.name !== initial)).join('')}</div>
<aside id="info"><p>Click a node to see its op, type, stage and source. Scroll to zoom, drag to pan.</p></aside></main>
<script type="application/json" id="rlp-data">${scriptJson(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
