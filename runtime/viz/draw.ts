/** The drawings of one compiled pipeline: its binding view and its op view. */
import type { Program } from '../../compiler/bind/modules.js';
import type { CompiledPipeline } from '../../compiler/compile.js';
import type { IrGraph } from '../../compiler/ir/graph.js';
import { bindingView, type BindingView, type BindingViewOptions } from './binding-view.js';
import type { VizGraph } from './model.js';
import { opView } from './op-view.js';
import { bindingSources } from './sources.js';

/** Options of a drawing. */
export interface DrawOptions extends BindingViewOptions {
  /** Draw the graph after the optimization passes (fused kernels outlined) instead of as built. */
  readonly optimized?: boolean;
}

/** Both views of a pipeline. */
export interface Drawings {
  readonly graph: IrGraph;
  readonly bindings: BindingView;
  readonly ops: VizGraph;
}

/** Draw a compiled pipeline of `program`. */
export function drawPipeline(program: Program, p: CompiledPipeline, opts: DrawOptions = {}): Drawings {
  const graph = opts.optimized === true ? p.ir : p.raw;
  const sources = bindingSources(program, p);
  return { graph, bindings: bindingView(graph, sources, opts), ops: opView(graph, sources) };
}
