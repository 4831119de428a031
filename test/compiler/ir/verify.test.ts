/** The IR verifier catches each kind of broken invariant. */
import { describe, expect, it } from 'vitest';
import { memoryHost } from '../../../compiler/bind/host.js';
import { compileFiles } from '../../../compiler/compile.js';
import { IrGraph, type IrNode } from '../../../compiler/ir/graph.js';
import { verifyIr } from '../../../compiler/ir/verify.js';
import { tensor } from '../../../compiler/types.js';

function grpo(): IrGraph {
  return compileFiles(['stdlib/grpo.rlp']).pipelines[0]!.ir;
}

function rebuild(g: IrGraph, edit: (nodes: IrNode[]) => IrNode[]): IrGraph {
  return new IrGraph(edit(g.ordered().map((n) => ({ ...n }))), g.outputs, g.meta);
}

describe('verifyIr', () => {
  it('accepts what the compiler builds', () => {
    expect(verifyIr(grpo())).toEqual([]);
    const r = compileFiles(['/w/x.rlp'], { host: memoryHost({ '/w/x.rlp': 'pipeline p { state { m: f32 = 0 } advantage { A = reward - m } update { m = mean(reward, over [B, G]) } }' }) });
    expect(verifyIr(r.pipelines[0]!.ir)).toEqual([]);
  });

  it('reports a dangling input', () => {
    const g = rebuild(grpo(), (ns) => ns.map((n) => (n.op === 'exp' ? { ...n, inputs: [9999] } : n)));
    expect(verifyIr(g).join('\n')).toMatch(/dangling input %9999/);
  });

  it('reports a use before its definition', () => {
    const g = rebuild(grpo(), (ns) => ns.map((n) => (n.op === 'exp' ? { ...n, inputs: [n.id + 1] } : n)));
    expect(verifyIr(g).join('\n')).toMatch(/does not come before its use/);
  });

  it('reports a node whose type disagrees with its op', () => {
    const g = rebuild(grpo(), (ns) => ns.map((n) => (n.op === 'exp' ? { ...n, type: tensor('f32', ['B']) } : n)));
    expect(verifyIr(g).join('\n')).toMatch(/infers f32\[B,G,T\]@mask/);
  });

  it('reports a wrong effects flag and an unknown op', () => {
    const g = rebuild(grpo(), (ns) => ns.map((n) => (n.op === 'rollout' ? { ...n, effects: false } : n.op === 'neg' ? { ...n, op: 'negate' } : n)));
    const errs = verifyIr(g).join('\n');
    expect(errs).toMatch(/effects flag/);
    expect(errs).toMatch(/unknown op negate/);
  });

  it('reports a dangling output', () => {
    const g0 = grpo();
    const g = new IrGraph(g0.ordered(), [...g0.outputs, { name: 'x', node: 12345 }], g0.meta);
    expect(verifyIr(g).join('\n')).toMatch(/output x: dangling/);
  });
});
