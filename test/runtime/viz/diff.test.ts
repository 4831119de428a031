/** `--diff`: bindings computed alike are merged, those that differ are highlighted with both sides. */
import { describe, expect, it } from 'vitest';
import { bindingView } from '../../../runtime/viz/binding-view.js';
import { diffView } from '../../../runtime/viz/diff.js';
import { bindingSources } from '../../../runtime/viz/sources.js';
import { stdlibPipeline } from '../../helpers/viz-graphs.js';

const viewOf = (name: string) => {
  const { program, pipeline } = stdlibPipeline(name);
  return bindingView(pipeline.raw, bindingSources(program, pipeline));
};

describe('diffView', () => {
  const grpo = viewOf('grpo');
  const dr = viewOf('dr_grpo');

  it('marks exactly the advantage and the loss as differing between grpo and dr_grpo', () => {
    const d = diffView(grpo, dr, ['grpo', 'dr_grpo']);
    expect(d.nodes.filter((n) => n.diff !== 'same').map((n) => [n.id, n.diff])).toEqual([['b:advantage.A', 'changed'], ['b:loss', 'changed']]);
    const a = d.nodes.find((n) => n.id === 'b:advantage.A')!;
    expect(a.lines[0]).toBe('grpo: A = group_advantage(reward, eps,');
    expect(a.lines.some((l) => l.startsWith('dr_grpo: A = group_centered(reward, singleton_verl)'))).toBe(true);
    expect(d.title).toBe('grpo vs dr_grpo: 2 of 15 nodes differ');
  });

  it('keeps edges of one side only and colours them by side', () => {
    const d = diffView(grpo, dr, ['grpo', 'dr_grpo']);
    expect(d.edges.filter((e) => e.diff !== 'same').map((e) => `${e.from}->${e.to} ${e.diff}`)).toEqual([]);
    const dpo = viewOf('dpo');
    const x = diffView(grpo, dpo, ['grpo', 'dpo']);
    expect(x.nodes.find((n) => n.id === 'b:advantage.A')!.diff).toBe('only-a');
    expect(x.nodes.find((n) => n.id === 'b:loss.delta')!.diff).toBe('only-b');
    expect(x.nodes.find((n) => n.id === 'b:loss.delta')!.lines[0]).toBe('only in dpo');
    expect(x.edges.find((e) => e.from === 'b:loss.delta' && e.to === 'b:loss.pairs')!.diff).toBe('only-b');
  });

  it('finds no difference between a pipeline and itself', () => {
    const d = diffView(grpo, viewOf('grpo'), ['grpo', 'grpo']);
    expect(d.nodes.every((n) => n.diff === 'same')).toBe(true);
    expect(d.edges.every((e) => e.diff === 'same')).toBe(true);
  });
});
