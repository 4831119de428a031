/** DOT to SVG in-process, with Graphviz compiled to WebAssembly (@viz-js/viz): no system Graphviz needed. */

/** Render DOT as a standalone SVG document. */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  const r = viz.render(dot, { format: 'svg', engine: 'dot' });
  if (r.status !== 'success') throw new Error(`internal: Graphviz could not lay out the drawing: ${r.errors.map((e) => e.message).join('; ')}`);
  return r.output;
}

/** An SVG document without its XML prolog, doctype and comments, to inline in HTML. */
export function inlineSvg(svg: string): string {
  const at = svg.indexOf('<svg');
  return (at < 0 ? svg : svg.slice(at)).replace(/<!--[\s\S]*?-->/g, '');
}
