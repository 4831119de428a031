/**
 * The IR: one immutable node type, hash-consed on construction (so CSE is free), stored behind
 * this one wrapper over @dagrejs/graphlib.
 */
import * as graphlib from '@dagrejs/graphlib';
import type { Span } from '../../grammar/source.js';
import type { Attrs } from '../ops/define.js';
import { formatTypeFull, type Type } from '../types.js';
import type { ParamRange } from './param-range.js';

/** One IR node. Inputs are node ids; spans are every source place this value came from. */
export interface IrNode {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly number[];
  readonly attrs: Attrs;
  readonly type: Type;
  readonly spans: readonly Span[];
  readonly effects: boolean;
}

/** A named result of the pipeline: `stage.binding`, `loss`, `update.name`. */
export interface IrOutput {
  readonly name: string;
  readonly node: number;
}

/** A pipeline param as the IR sees it. */
export interface IrParam {
  readonly name: string;
  readonly type: 'int' | 'float' | 'bool' | 'string' | 'choice';
  readonly default: number | string | boolean | null;
  /** The declared range of a numeric param (`in [1, 4096]`), or null. */
  readonly range: ParamRange | null;
  readonly doc: string;
  /** For a `choice(...)` param: the strings it may take, and the one this compilation chose. */
  readonly choices?: readonly string[];
  readonly chosen?: string;
}

/** A state variable: its type and initial value. */
export interface IrState {
  readonly name: string;
  readonly type: Type;
  readonly init: number | boolean;
}

/** An input declared in a pipeline's `inputs` block: fed like the standard inputs. */
export interface IrDeclaredInput {
  readonly name: string;
  readonly type: Type;
  readonly doc: string;
}

/** Facts about the pipeline that travel with its graph. */
export interface IrMeta {
  readonly pipeline: string;
  readonly doc: string;
  readonly dimOrder: readonly string[];
  readonly params: readonly IrParam[];
  readonly state: readonly IrState[];
  /** Inputs declared by the pipeline (beyond the standard ones); absent means none. */
  readonly inputs?: readonly IrDeclaredInput[];
}

/** An immutable IR graph: nodes by id (ids ascend in a topological order), outputs, meta. */
export class IrGraph {
  readonly nodes: ReadonlyMap<number, IrNode>;
  private readonly g: graphlib.Graph;

  constructor(nodes: Iterable<IrNode>, readonly outputs: readonly IrOutput[], readonly meta: IrMeta) {
    const sorted = [...nodes].sort((a, b) => a.id - b.id);
    this.nodes = new Map(sorted.map((n) => [n.id, n]));
    this.g = new graphlib.Graph({ directed: true, multigraph: false });
    for (const n of sorted) this.g.setNode(String(n.id));
    for (const n of sorted) for (const i of n.inputs) this.g.setEdge(String(i), String(n.id));
  }

  /** The node with this id; throws for a dangling id (an invariant). */
  node(id: number): IrNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`internal: no IR node %${id}`);
    return n;
  }

  /** Ids of the nodes that use `id`. */
  users(id: number): number[] {
    return (this.g.successors(String(id)) ?? []).map(Number).sort((a, b) => a - b);
  }

  /** Whether the graph has no cycle (Kahn's algorithm, iterative: graphlib's recursive search overflows the stack on long chains). */
  isAcyclic(): boolean {
    const indegree = new Map<string, number>();
    for (const v of this.g.nodes()) indegree.set(v, (this.g.predecessors(v) ?? []).length);
    const ready = [...indegree].filter(([, d]) => d === 0).map(([v]) => v);
    let seen = 0;
    while (ready.length > 0) {
      const v = ready.pop()!;
      seen++;
      for (const w of this.g.successors(v) ?? []) {
        const d = indegree.get(w)! - 1;
        indegree.set(w, d);
        if (d === 0) ready.push(w);
      }
    }
    return seen === indegree.size;
  }

  /** Nodes in id order (a topological order). */
  ordered(): IrNode[] {
    return [...this.nodes.values()];
  }
}

/** Builds a graph, merging structurally equal pure nodes (hash-consing). */
export class IrBuilder {
  private readonly nodes: IrNode[] = [];
  private readonly byKey = new Map<string, number>();
  /** The spans of each merged node so far, and their keys: merging a span costs O(1), not O(spans). */
  private readonly merged = new Map<number, { spans: Span[]; keys: Set<string> }>();
  private readonly fileIds = new Map<Span['file'], number>();

  /** Add (or find) a node; returns its id. Effectful nodes are never merged. */
  add(op: string, inputs: readonly number[], attrs: Attrs, type: Type, spans: readonly Span[], effects: boolean): number {
    const key = effects ? null : nodeKey(op, inputs, attrs, type);
    const found = key === null ? undefined : this.byKey.get(key);
    if (found !== undefined) {
      let m = this.merged.get(found);
      if (m === undefined) {
        const old = this.nodes[found]!;
        m = { spans: [], keys: new Set() };
        for (const s of old.spans) this.addSpan(m, s);
        this.merged.set(found, m);
        this.nodes[found] = { ...old, spans: m.spans };
      }
      for (const s of spans) this.addSpan(m, s);
      return found;
    }
    const id = this.nodes.length;
    this.nodes.push({ id, op, inputs, attrs, type, spans, effects });
    if (key !== null) this.byKey.set(key, id);
    return id;
  }

  private addSpan(m: { spans: Span[]; keys: Set<string> }, s: Span): void {
    let f = this.fileIds.get(s.file);
    if (f === undefined) this.fileIds.set(s.file, (f = this.fileIds.size));
    const k = `${f}:${s.start}:${s.end}`;
    if (m.keys.has(k)) return;
    m.keys.add(k);
    m.spans.push(s);
  }

  /** The type of a node built so far. */
  typeOf(id: number): Type {
    return this.nodes[id]!.type;
  }

  /** The node built so far. */
  get(id: number): IrNode {
    return this.nodes[id]!;
  }

  /** Finish: keep what the outputs and effects need, renumbered in a deterministic topological order. */
  finish(outputs: readonly IrOutput[], meta: IrMeta): IrGraph {
    return renumber(this.nodes, outputs, meta);
  }
}

/** Stable identity of a pure node. */
export function nodeKey(op: string, inputs: readonly number[], attrs: Attrs, type: Type): string {
  const a = Object.keys(attrs)
    .sort()
    .map((k) => `${k}=${JSON.stringify(attrs[k])}`)
    .join(',');
  return `${op}(${inputs.join(',')})[${a}]:${formatTypeFull(type)}`;
}

/**
 * Keep the nodes reachable from the outputs (outputs first, in order, then remaining effects) and
 * number them by a depth-first post-order: the same program always prints the same way.
 */
export function renumber(nodes: readonly IrNode[] | ReadonlyMap<number, IrNode>, outputs: readonly IrOutput[], meta: IrMeta): IrGraph {
  const get = (id: number): IrNode => {
    const n = nodes instanceof Map ? nodes.get(id) : (nodes as readonly IrNode[])[id];
    if (n === undefined) throw new Error(`internal: dangling IR id %${id}`);
    return n;
  };
  const all = nodes instanceof Map ? [...nodes.values()] : [...(nodes as readonly IrNode[])];
  const newId = new Map<number, number>();
  const order: IrNode[] = [];
  const visit = (root: number): void => {
    const stack: Array<[number, number]> = [[root, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [id, i] = top;
      if (newId.has(id)) {
        stack.pop();
        continue;
      }
      const n = get(id);
      if (i < n.inputs.length) {
        top[1] = i + 1;
        const child = n.inputs[i]!;
        if (!newId.has(child)) stack.push([child, 0]);
      } else {
        stack.pop();
        newId.set(id, order.length);
        order.push(n);
      }
    }
  };
  for (const o of outputs) visit(o.node);
  for (const n of all) if (n.effects) visit(n.id);
  const renamed = order.map((n) => ({ ...n, id: newId.get(n.id)!, inputs: n.inputs.map((i) => newId.get(i)!) }));
  const outs = outputs.map((o) => ({ name: o.name, node: newId.get(o.node)! }));
  return new IrGraph(renamed, outs, meta);
}

/** Whether the value of node `out` depends on node `target`. */
export function dependsOn(g: IrGraph, out: number, target: number): boolean {
  const seen = new Set<number>();
  const stack = [out];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...g.node(id).inputs);
  }
  return false;
}
