/** SVG in-process: Graphviz in WebAssembly lays out the DOT, keeping the ids the page script needs. */
import { describe, expect, it } from 'vitest';
import { inlineSvg, renderSvg } from '../../../runtime/viz/svg.js';

describe('renderSvg', () => {
  it('renders nodes, clusters and edge labels with their DOT ids', async () => {
    const svg = await renderSvg('digraph { subgraph cluster_s { id="cluster-s"; "b:x" [id="b:x", label="x = 1"]; } "b:x" -> y [label="f32[B]"]; }');
    expect(svg).toContain('<g id="b:x" class="node">');
    // Graphviz writes the dash as a character reference; the browser reads it back as `cluster-s`.
    expect(svg).toContain('<g id="cluster&#45;s" class="cluster">');
    expect(svg).toContain('f32[B]');
  });

  it('reports DOT it cannot lay out as an internal error', async () => {
    await expect(renderSvg('digraph { a -> }')).rejects.toThrow(/internal: Graphviz/);
  });

  it('strips the prolog and comments for inlining', () => {
    expect(inlineSvg('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- made -->\n<svg><!-- x --><g/></svg>')).toBe('<svg><g/></svg>');
  });
});
