/** drawPipeline: the graph as built by default, after the passes with `optimized`. */
import { describe, expect, it } from 'vitest';
import { drawPipeline } from '../../../runtime/viz/draw.js';
import { stdlibPipeline } from '../../helpers/viz-graphs.js';

describe('drawPipeline', () => {
  const { program, pipeline } = stdlibPipeline('grpo');

  it('draws the graph as built unless asked for the optimized one', () => {
    expect(drawPipeline(program, pipeline).graph).toBe(pipeline.raw);
    const opt = drawPipeline(program, pipeline, { optimized: true });
    expect(opt.graph).toBe(pipeline.ir);
    expect(opt.ops.nodes.length).toBe(pipeline.ir.nodes.size);
  });

  it('shows value summaries in the binding view', () => {
    const d = drawPipeline(program, pipeline, { summaries: new Map([['advantage.A', '[2,4] min -1 mean 0 max 1, 0 NaN'], ['logp', '[2,4,3] min -3 mean -1 max 0, 0 NaN']]) });
    expect(d.bindings.graph.nodes.find((n) => n.id === 'b:advantage.A')!.lines).toContain('[2,4] min -1 mean 0 max 1, 0 NaN');
    expect(d.bindings.graph.nodes.find((n) => n.id === 'in:logp')!.info.notes).toContain('[2,4,3] min -3 mean -1 max 0, 0 NaN');
  });
});
