/** The binding view: one node per binding, source expressions, params folded, typed edges, fused and shared-prefix marks. */
import { describe, expect, it } from 'vitest';
import { bindingView } from '../../../runtime/viz/binding-view.js';
import { bindingSources } from '../../../runtime/viz/sources.js';
import { fusedGraph, stdlibPipeline } from '../../helpers/viz-graphs.js';

describe('bindingView', () => {
  const { program, pipeline } = stdlibPipeline('grpo');
  const view = bindingView(pipeline.raw, bindingSources(program, pipeline));
  const byId = new Map(view.graph.nodes.map((n) => [n.id, n]));

  it('draws one node per output, in its stage, labelled with its source expression', () => {
    const bindings = view.graph.nodes.filter((n) => n.id.startsWith('b:'));
    expect(bindings.map((n) => n.id)).toEqual(pipeline.raw.outputs.map((o) => `b:${o.name}`));
    expect(byId.get('b:loss.ratio')!.lines[0]).toBe('ratio = exp(logp - old_logp)');
    expect(byId.get('b:loss.ratio')!.cluster).toBe('loss');
    expect(byId.get('b:advantage.A')!.cluster).toBe('advantage');
    expect(byId.get('b:loss')!.lines[0]).toBe('minimize agg_loss(per_token, mask, agg,');
    expect(byId.get('b:loss')!.kind).toBe('loss');
    expect(byId.get('b:sample.rollout')!.kind).toBe('effect');
  });

  it('folds the params a binding reads into its label, with their values', () => {
    expect(byId.get('b:loss.per_token')!.lines).toContain('params: beta = 0.04');
    expect(byId.get('b:loss.ratio')!.lines.some((l) => l.startsWith('params:'))).toBe(false);
    const set = bindingView(pipeline.raw, bindingSources(program, pipeline), { paramValues: { beta: 0.5 } });
    expect(set.graph.nodes.find((n) => n.id === 'b:loss.per_token')!.lines).toContain('params: beta = 0.5');
    expect(view.graph.nodes.some((n) => n.kind === 'param')).toBe(false);
  });

  it('labels edges with the type and mask of the value they carry', () => {
    const edge = (from: string, to: string) => view.graph.edges.find((e) => e.from === from && e.to === to)?.label;
    expect(edge('in:logp', 'b:loss.ratio')).toBe('f32[B,G,T] @mask');
    expect(edge('b:advantage.A', 'b:loss.surrogate')).toBe('f32[B,G]');
    expect(edge('in:mask', 'b:loss')).toBe('f32[B,G,T] !mask');
    expect(edge('fn:correct', 'b:reward.reward')).toBe('f32[B,G]');
    expect(edge('b:loss.seqs', 'b:loss')).toBe('f32');
  });

  it('draws inputs and reward functions as their own kinds, the policy log-probs in the shared-prefix cluster', () => {
    expect(byId.get('in:logp')!.kind).toBe('input');
    expect(byId.get('in:logp')!.sharedPrefix).toBe(true);
    expect(byId.get('in:logp')!.cluster).toBe('policy');
    expect(byId.get('in:mask')!.sharedPrefix).toBe(false);
    expect(byId.get('fn:correct')!.kind).toBe('reward-fn');
    expect(view.graph.clusters.map((c) => c.id)).toEqual(['policy', 'sample', 'reward', 'advantage', 'loss']);
  });

  it('outlines a binding computed by a fused kernel and draws a second name of one value as an alias', () => {
    const v = bindingView(fusedGraph(), new Map());
    const ratio = v.graph.nodes.find((n) => n.id === 'b:loss.ratio')!;
    expect(ratio.fused).toBe(true);
    expect(ratio.info.notes).toContain('fused kernel: %2 fused_elementwise');
    expect(v.graph.nodes.find((n) => n.id === 'b:loss')!.fused).toBe(false);
    expect(v.graph.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual(['b:loss.ratio->b:loss', 'b:loss.ratio->b:loss.alias', 'in:logp->b:loss.ratio', 'in:mask->b:loss', 'in:old_logp->b:loss.ratio']);
  });

  it('gives equal signatures to bindings computed alike and different ones otherwise', () => {
    const dr = stdlibPipeline('dr_grpo');
    const other = bindingView(dr.pipeline.raw, bindingSources(dr.program, dr.pipeline));
    expect(other.signatures.get('b:loss.ratio')).toBe(view.signatures.get('b:loss.ratio'));
    expect(other.signatures.get('b:advantage.A')).not.toBe(view.signatures.get('b:advantage.A'));
  });
});
