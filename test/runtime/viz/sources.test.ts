/** Binding sources: each output's stage and expression text, from the pipeline or the parent it extends. */
import { describe, expect, it } from 'vitest';
import { bindingSources } from '../../../runtime/viz/sources.js';
import { stdlibPipeline } from '../../helpers/viz-graphs.js';

describe('bindingSources', () => {
  it('gives every output of grpo its stage and collapsed expression', () => {
    const { program, pipeline } = stdlibPipeline('grpo');
    const s = bindingSources(program, pipeline);
    expect([...s.keys()].sort()).toEqual(pipeline.raw.outputs.map((o) => o.name).sort());
    expect(s.get('advantage.A')).toMatchObject({ stage: 'advantage', expr: 'group_advantage(reward, eps, singleton_verl)' });
    expect(s.get('loss')!.expr).toBe('agg_loss(per_token, mask, agg, tokens, seqs, horizon)');
    expect(s.get('sample.rollout')!.expr).toBe('rollout(n = group, temperature = temperature, max_tokens = max_tokens)');
  });

  it('takes overridden bindings from the child and inherited ones from the parent file', () => {
    const { program, pipeline } = stdlibPipeline('dr_grpo');
    const s = bindingSources(program, pipeline);
    expect(s.get('advantage.A')!.expr).toBe('group_centered(reward, singleton_verl)');
    expect(s.get('advantage.A')!.span.file.path).toMatch(/dr_grpo\.rlp$/);
    expect(s.get('loss.ratio')!.span.file.path).toMatch(/grpo\.rlp$/);
    expect(s.get('loss.ratio')!.span.file.path).not.toMatch(/dr_grpo\.rlp$/);
  });
});
