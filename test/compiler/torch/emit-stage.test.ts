/** Emitting a stage: ops without a PyTorch form are errors that name them; fused graphs export unfused. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileFiles, type CompiledPipeline } from '../../../compiler/compile.js';
import { IrGraph } from '../../../compiler/ir/graph.js';
import { exportTorch, unfusedGraph } from '../../../compiler/torch/export.js';

const files = readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).map((f) => `stdlib/${f}`);
const grpo = compileFiles(files).pipelines.find((p) => p.name === 'grpo')!;

/** grpo with its `clip` node renamed to an op that has no PyTorch form (as a fused region would be). */
function withFused(p: CompiledPipeline): IrGraph {
  const nodes = p.ir.ordered().map((n) => (n.op === 'clip' ? { ...n, op: 'fused_elementwise' } : n));
  return new IrGraph(nodes, p.ir.outputs, p.ir.meta);
}

describe('emitting a stage to torch', () => {
  it('reports an op without a PyTorch form as RLP5010, naming the op and pointing at its source', () => {
    const fused = withFused(grpo);
    const e = exportTorch({ ...grpo, ir: fused, after: new Map([['dce', fused]]) });
    expect(e.code).toBe('');
    const d = e.diagnostics.find((x) => x.code === 'RLP5010')!;
    expect(d.message).toBe('op `fused_elementwise` has no PyTorch form, so `grpo` cannot be exported to torch');
    expect(d.span.file.path).toMatch(/prelude\.rlp$/);
  });

  it('exports the graph from before a fusion pass, so fused regions lower as their members', () => {
    const fused = withFused(grpo);
    const p: CompiledPipeline = { ...grpo, ir: fused, after: new Map([['dce', grpo.ir], ['fuse-elementwise', fused]]) };
    expect(unfusedGraph(p)).toBe(grpo.ir);
    const e = exportTorch(p);
    expect(e.diagnostics).toEqual([]);
    expect(e.code).toContain('_minimum(_maximum(ratio, t33), t35)');
  });

  it('writes one line per IR node with its source in a comment, and params as keyword arguments', () => {
    const code = exportTorch(grpo).code;
    expect(code).toMatch(/^    ratio = torch\.exp\(t29\)  # exp\(logp - old_logp\)  \(grpo\.rlp:\d+\)$/m);
    expect(code).toMatch(/^def compute_loss\(\n    \*,\n    logp,\n    old_logp,\n    ref_logp,\n    mask,\n    advantages,\n    clip_low=0\.2,/m);
    expect(code).toContain('return loss, {"loss.ratio": ratio, "loss.surrogate": surrogate, "loss.kl": kl, "loss.per_token": per_token, "loss.seqs": seqs}');
  });
});
