/** Small hand-built IR graphs and compiled stdlib pipelines for the viz tests. */
import { compileFiles, type CompiledPipeline } from '../../compiler/compile.js';
import type { Program } from '../../compiler/bind/modules.js';
import { IrGraph, type IrNode, type IrOutput } from '../../compiler/ir/graph.js';
import { tensor, type Type } from '../../compiler/types.js';

/** A compiled stdlib pipeline with its program. */
export function stdlibPipeline(name: string): { program: Program; pipeline: CompiledPipeline } {
  const r = compileFiles([`stdlib/${name}.rlp`]);
  const pipeline = r.pipelines.find((p) => p.name === name);
  if (pipeline === undefined) throw new Error(`no pipeline ${name}`);
  return { program: r.program, pipeline };
}

const tok: Type = tensor('f32', ['B', 'G', 'T'], 'mask');

/** A node with no spans. */
export function node(id: number, op: string, inputs: number[], type: Type = tok, attrs: Record<string, unknown> = {}): IrNode {
  return { id, op, inputs, attrs: attrs as IrNode['attrs'], type, spans: [], effects: false };
}

/** A graph of these nodes and outputs. */
export function graph(nodes: IrNode[], outputs: IrOutput[]): IrGraph {
  return new IrGraph(nodes, outputs, { pipeline: 'hand', doc: '', dimOrder: ['B', 'G', 'T'], params: [{ name: 'beta', type: 'float', default: 0.5, doc: '', range: null }], state: [] });
}

/**
 * `loss.ratio = exp(logp - old_logp)` computed by one fused kernel, `loss.alias` bound to the same
 * value, and `loss = sum(beta * ratio)`.
 */
export function fusedGraph(): IrGraph {
  return graph([
    node(0, 'input', [], tok, { name: 'logp' }),
    node(1, 'input', [], tok, { name: 'old_logp' }),
    node(2, 'fused_elementwise', [0, 1]),
    node(3, 'param', [], tensor('f32'), { name: 'beta' }),
    node(4, 'mul', [3, 2]),
    node(5, 'input', [], tensor('f32', ['B', 'G', 'T'], null, 'mask'), { name: 'mask' }),
    node(6, 'sum', [4, 5], tensor('f32'), { over: ['B', 'G', 'T'] }),
  ], [{ name: 'loss.ratio', node: 2 }, { name: 'loss.alias', node: 2 }, { name: 'loss', node: 6 }]);
}
