/**
 * The binding view: one node per named binding (`stage.name`, the loss, updates), labelled with its
 * source expression and the params it reads (folded into the label), plus one node per input,
 * reward function and state variable it reads. Edges carry the type of the value and its mask.
 */
import { createHash } from 'node:crypto';
import { standardInput } from '../../compiler/check/inputs.js';
import type { IrGraph, IrNode, IrOutput } from '../../compiler/ir/graph.js';
import { formatTypeFull, type Type } from '../../compiler/types.js';
import type { BindingSource } from './sources.js';
import {
  edgeType, formatValue, isFused, leafKind, SHARED_PREFIX_CLUSTER, SHARED_PREFIX_INPUTS, spanInfo, stageClusters, wrap,
  type VizEdge, type VizGraph, type VizNode,
} from './model.js';

/** Options of the binding view. */
export interface BindingViewOptions {
  /** Param values to show instead of the declared defaults (a run's resolved params). */
  readonly paramValues?: Readonly<Record<string, number | string | boolean>>;
  /** A value summary line per output name or input name (`--batch`). */
  readonly summaries?: ReadonlyMap<string, string>;
}

/** The binding view, and each binding's structural signature (equal signatures compute the same). */
export interface BindingView {
  readonly graph: VizGraph;
  readonly signatures: ReadonlyMap<string, string>;
}

interface Walk {
  readonly deps: Map<string, Type>;
  readonly params: Set<string>;
  readonly fused: number[];
  readonly signature: string;
}

/** The drawn id of a leaf node (input, reward function, state), or null for other nodes. */
function leafId(n: IrNode): string | null {
  const name = String(n.attrs['name']);
  const k = leafKind(n);
  return k === 'input' ? `in:${name}` : k === 'reward-fn' ? `fn:${name}` : k === 'state' ? `st:${name}` : null;
}

/** Walk a binding's computation down to other bindings, leaves, params and constants. */
function walk(g: IrGraph, out: string, root: number, owner: ReadonlyMap<number, string>, paramValue: (name: string) => string): Walk {
  const deps = new Map<string, Type>();
  const params = new Set<string>();
  const fused: number[] = [];
  const memo = new Map<number, string>();
  const visit = (id: number, isRoot: boolean): string => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const n = g.node(id);
    const own = owner.get(id);
    let sig: string;
    if (own !== undefined && (!isRoot || own !== out)) {
      deps.set(`b:${own}`, n.type);
      sig = `@${own}`;
    } else if (n.op === 'param') {
      params.add(String(n.attrs['name']));
      sig = `param:${String(n.attrs['name'])}=${paramValue(String(n.attrs['name']))}`;
    } else if (n.op === 'const') {
      sig = `const:${JSON.stringify(n.attrs['value'])}:${formatTypeFull(n.type)}`;
    } else if (leafId(n) !== null) {
      deps.set(leafId(n)!, n.type);
      sig = leafId(n)!;
    } else {
      if (isFused(n)) fused.push(id);
      const parts = n.inputs.map((i) => visit(i, false));
      const attrs = Object.keys(n.attrs).sort().map((k) => `${k}=${JSON.stringify(n.attrs[k])}`).join(',');
      sig = createHash('sha1').update(`${n.op}[${attrs}](${parts.join(',')}):${formatTypeFull(n.type)}`).digest('hex').slice(0, 16);
    }
    memo.set(id, sig);
    return sig;
  };
  const signature = visit(root, true);
  return { deps, params, fused, signature };
}

/** What drawing one output needs besides the output itself. */
interface OutputCtx {
  readonly g: IrGraph;
  readonly sources: ReadonlyMap<string, BindingSource>;
  readonly owner: ReadonlyMap<number, string>;
  readonly paramValue: (name: string) => string;
  readonly summaries: ReadonlyMap<string, string> | undefined;
}

/** One output as a node, with the walk of its computation (its dependencies and signature). */
function outputNode(c: OutputCtx, o: IrOutput): { node: VizNode; walk: Walk; head: string } {
  const n = c.g.node(o.node);
  const w = walk(c.g, o.name, o.node, c.owner, c.paramValue);
  const src = c.sources.get(o.name);
  const stage = src?.stage ?? (o.name === 'loss' ? 'loss' : o.name.split('.')[0]!);
  const short = o.name.includes('.') ? o.name.slice(o.name.indexOf('.') + 1) : o.name;
  const head = o.name === 'loss' ? `minimize ${src?.expr ?? ''}` : stage === 'sample' ? (src?.expr ?? short) : `${short} = ${src?.expr ?? '?'}`;
  const paramLine = [...w.params].sort().map((p) => `${p} = ${c.paramValue(p)}`).join(', ');
  const notes = [
    ...(paramLine !== '' ? [`params: ${paramLine}`] : []),
    ...(w.fused.length > 0 ? [`fused kernel${w.fused.length > 1 ? 's' : ''}: ${w.fused.map((f) => `%${f} ${c.g.node(f).op}`).join(', ')}`] : []),
    ...(c.summaries?.has(o.name) === true ? [c.summaries.get(o.name)!] : []),
  ];
  const node: VizNode = {
    id: `b:${o.name}`,
    kind: o.name === 'loss' ? 'loss' : n.effects ? 'effect' : 'binding',
    lines: [...wrap(head), edgeType(n.type), ...notes.flatMap((x) => wrap(x, 56))],
    cluster: stage,
    fused: w.fused.length > 0,
    sharedPrefix: false,
    diff: null,
    search: [o.name, short],
    info: { title: o.name, op: n.op, type: formatTypeFull(n.type), stage, spans: src !== undefined ? [spanInfo(src.span)] : n.spans.slice(0, 3).map(spanInfo), notes },
  };
  return { node, walk: w, head };
}

/** Draw the binding view of a graph, using the bindings' source text. */
export function bindingView(g: IrGraph, sources: ReadonlyMap<string, BindingSource>, opts: BindingViewOptions = {}): BindingView {
  const owner = new Map<number, string>();
  for (const o of g.outputs) if (!owner.has(o.node)) owner.set(o.node, o.name);
  const defaults = new Map(g.meta.params.map((p) => [p.name, p.default]));
  const paramValue = (name: string): string => formatValue(opts.paramValues?.[name] ?? defaults.get(name) ?? null);
  const leafNodes = new Map(g.ordered().filter((n) => leafId(n) !== null).map((n) => [leafId(n)!, n]));
  const ctx: OutputCtx = { g, sources, owner, paramValue, summaries: opts.summaries };
  const nodes: VizNode[] = [];
  const edges = new Map<string, VizEdge>();
  const leaves = new Map<string, IrNode>();
  const signatures = new Map<string, string>();
  for (const o of g.outputs) {
    const { node, walk: w, head } = outputNode(ctx, o);
    nodes.push(node);
    signatures.set(node.id, `${o.name}|${head}|${w.signature}`);
    for (const [from, t] of w.deps) {
      if (!from.startsWith('b:')) leaves.set(from, leafNodes.get(from)!);
      edges.set(`${from}->${node.id}`, { from, to: node.id, label: edgeType(t), diff: null });
    }
  }
  for (const [id, n] of [...leaves].sort(([a], [b]) => a.localeCompare(b))) nodes.push(leafNode(id, n, opts.summaries));
  // The rollout's completions reach rewards and inputs through the runtime, not the IR: dotted edges.
  const rollout = nodes.find((n) => n.kind === 'effect' && n.cluster === 'sample');
  if (rollout !== undefined) {
    for (const [id] of leaves) if (id !== 'in:step' && !id.startsWith('st:')) edges.set(`${rollout.id}->${id}`, { from: rollout.id, to: id, label: '', diff: null, implicit: true });
  }
  const clusters = stageClusters(new Set(nodes.filter((n) => n.id.startsWith('b:')).map((n) => n.cluster!)));
  if (nodes.some((n) => n.sharedPrefix)) clusters.unshift(SHARED_PREFIX_CLUSTER);
  return {
    graph: { name: g.meta.pipeline, title: `${g.meta.pipeline}: bindings`, nodes, edges: [...edges.values()], clusters },
    signatures,
  };
}

/** An input, reward function or state variable as a node. */
function leafNode(id: string, n: IrNode, summaries: ReadonlyMap<string, string> | undefined): VizNode {
  const name = String(n.attrs['name']);
  const kind = leafKind(n) as 'input' | 'reward-fn' | 'state';
  const shared = kind === 'input' && SHARED_PREFIX_INPUTS.includes(name);
  const doc = kind === 'input' ? standardInput(name)?.doc ?? 'a fed input' : kind === 'reward-fn' ? 'reward function, applied to each completion' : 'state variable, as of the start of the step';
  const summary = summaries?.get(name);
  const notes = [doc, ...(shared ? ['computed by the shared-prefix policy forward'] : []), ...(summary !== undefined ? [summary] : [])];
  const head = kind === 'reward-fn' ? `${name}()` : kind === 'state' ? `state ${name}` : name;
  return {
    id,
    kind,
    lines: [head, edgeType(n.type), ...(summary !== undefined ? wrap(summary, 56) : [])],
    cluster: shared ? SHARED_PREFIX_CLUSTER.id : null,
    fused: false,
    sharedPrefix: shared,
    diff: null,
    search: [name],
    info: { title: `${kind === 'reward-fn' ? 'reward function' : kind} ${name}`, op: n.op, type: formatTypeFull(n.type), stage: null, spans: n.spans.slice(0, 5).map(spanInfo), notes },
  };
}
