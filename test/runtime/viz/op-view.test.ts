/** The op view: one node per IR node, each computation in the stage of the first binding that reaches it. */
import { describe, expect, it } from 'vitest';
import { nodeStages, opView } from '../../../runtime/viz/op-view.js';
import { bindingSources } from '../../../runtime/viz/sources.js';
import { fusedGraph, stdlibPipeline } from '../../helpers/viz-graphs.js';

describe('opView', () => {
  const { program, pipeline } = stdlibPipeline('grpo');
  const g = pipeline.raw;
  const view = opView(g, bindingSources(program, pipeline));

  it('draws every IR node once, with one edge per distinct use', () => {
    expect(view.nodes.map((n) => n.id)).toEqual(g.ordered().map((n) => `n${n.id}`));
    const uses = new Set(g.ordered().flatMap((n) => n.inputs.map((i) => `n${i}->n${n.id}`)));
    expect(view.edges.length).toBe(uses.size);
  });

  it('labels an op with its id, name, attributes, source snippet and the binding it is', () => {
    const mean = g.ordered().find((n) => n.op === 'mean' && JSON.stringify(n.attrs['over']) === '["G"]')!;
    expect(view.nodes.find((n) => n.id === `n${mean.id}`)!.lines[0]).toBe(`%${mean.id} mean[over=["G"]]`);
    const ratio = g.outputs.find((o) => o.name === 'loss.ratio')!.node;
    expect(view.nodes.find((n) => n.id === `n${ratio}`)!.lines).toEqual([`%${ratio} exp`, 'exp(logp - old_logp)', '-> loss.ratio']);
  });

  it('places each computation in the stage of the first binding that computes it', () => {
    const stages = nodeStages(g, bindingSources(program, pipeline));
    const out = (name: string) => g.outputs.find((o) => o.name === name)!.node;
    expect(stages.get(out('advantage.A'))).toBe('advantage');
    expect(stages.get(out('loss.ratio'))).toBe('loss');
    expect(stages.get(out('reward.reward'))).toBe('reward');
    const logp = g.ordered().find((n) => n.op === 'input' && n.attrs['name'] === 'logp')!;
    expect(stages.has(logp.id)).toBe(false);
  });

  it('draws params, constants and inputs as their own kinds and outlines fused kernels', () => {
    expect(new Set(view.nodes.map((n) => n.kind))).toEqual(new Set(['param', 'const', 'effect', 'reward-fn', 'op', 'input']));
    const fused = opView(fusedGraph(), new Map());
    expect(fused.nodes.filter((n) => n.fused).map((n) => n.id)).toEqual(['n2']);
  });
});
