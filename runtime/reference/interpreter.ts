/**
 * The reference interpreter: evaluates an IR graph in plain JS, float64, from each op's reference
 * semantics (`scalar` for elementwise ops, `reduce` for reductions). It is the oracle in tests.
 */
import type { IrGraph, IrNode } from '../../compiler/ir/graph.js';
import { opByName } from '../../compiler/ops/index.js';
import { broadcastIndex, named, scalar, type NamedArray } from './named-array.js';

/** What a graph is evaluated on. */
export interface ReferenceInputs {
  /** Standard inputs and fed values by name (`logp`, `reward`, `reward_fn.correct`...). */
  readonly inputs: Readonly<Record<string, NamedArray>>;
  /** Param values by name; params missing here take their defaults. */
  readonly params?: Readonly<Record<string, number | boolean>>;
  /** Sizes of dims that no input carries (e.g. for `expand`). */
  readonly sizes?: Readonly<Record<string, number>>;
}

/** Evaluate every node; returns values by node id (non-tensor nodes are absent). */
export function interpret(g: IrGraph, feed: ReferenceInputs): Map<number, NamedArray> {
  const sizes = new Map<string, number>(Object.entries(feed.sizes ?? {}));
  for (const a of Object.values(feed.inputs)) a.dims.forEach((d, i) => sizes.set(d, a.shape[i]!));
  const vals = new Map<number, NamedArray>();
  for (const n of g.ordered()) {
    const v = evalNodeRef(g, n, vals, feed, sizes);
    if (v !== null) vals.set(n.id, v);
  }
  return vals;
}

/** The named outputs of a graph, evaluated (tensor outputs only). */
export function interpretOutputs(g: IrGraph, feed: ReferenceInputs): Record<string, NamedArray> {
  const vals = interpret(g, feed);
  const out: Record<string, NamedArray> = {};
  for (const o of g.outputs) {
    const v = vals.get(o.node);
    if (v !== undefined) out[o.name] = v;
  }
  return out;
}

function shapeOf(n: IrNode, sizes: ReadonlyMap<string, number>): number[] {
  if (n.type.kind !== 'tensor') return [];
  return n.type.dims.map((d) => {
    const s = sizes.get(d);
    if (s === undefined) throw new Error(`no size for dimension ${d} (feed an input that has it, or pass sizes)`);
    return s;
  });
}

/**
 * Whether `evalNodeRef` computes this node from its inputs' values alone: a constant, a param,
 * or a tensor op with reference semantics; not a source the caller feeds, a state variable or an
 * effect, whose values come from outside the graph.
 */
export function computableByReference(n: IrNode): boolean {
  if (n.type.kind !== 'tensor') return false;
  if (n.op === 'const' || n.op === 'param') return true;
  const op = opByName(n.op);
  if (op === undefined || op.traits.includes('source') || op.traits.includes('effect')) return false;
  return op.reference !== undefined || op.scalar !== undefined || op.reduce !== undefined;
}

/**
 * One node's value, float64, from its inputs' values in `vals` (by node id); null for a node
 * that is not a tensor or whose inputs are not all there. The interpreter evaluates a graph with
 * it, and an optimized plan its host steps (runtime/exec/host-steps.ts).
 */
export function evalNodeRef(g: IrGraph, n: IrNode, vals: ReadonlyMap<number, NamedArray>, feed: ReferenceInputs, sizes: ReadonlyMap<string, number>): NamedArray | null {
  if (n.type.kind !== 'tensor') return null;
  const ins = n.inputs.map((i) => vals.get(i));
  if (ins.some((x) => x === undefined)) return null;
  const xs = ins as NamedArray[];
  const op = opByName(n.op)!;
  switch (n.op) {
    case 'const':
      return scalar(Number(n.attrs['value']));
    case 'param':
      return scalar(Number(paramValue(g, feed, String(n.attrs['name']))));
    case 'input':
    case 'reward_fn': {
      const key = n.op === 'input' ? String(n.attrs['name']) : `reward_fn.${String(n.attrs['name'])}`;
      const v = feed.inputs[key];
      if (v === undefined) throw new Error(`missing input ${key}`);
      return v;
    }
    case 'state': {
      const s = g.meta.state.find((x) => x.name === n.attrs['name'])!;
      const shape = shapeOf(n, sizes);
      return named(n.type.dims, shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(Number(s.init)));
    }
    case 'state_update':
      return xs[0]!;
  }
  if (op.reference !== undefined) {
    const r = op.reference(xs, n.attrs, { dims: n.type.dims, shape: shapeOf(n, sizes), sizes });
    return { dims: r.dims, shape: r.shape, data: r.data };
  }
  if (op.scalar !== undefined) return elementwise(op.scalar, xs, n.type.dims, shapeOf(n, sizes));
  if (op.reduce !== undefined) return reduce(op.reduce, n, xs, sizes);
  throw new Error(`internal: the reference interpreter cannot evaluate ${n.op}`);
}

function paramValue(g: IrGraph, feed: ReferenceInputs, name: string): number | boolean {
  const v = feed.params?.[name];
  if (v !== undefined) return v;
  const p = g.meta.params.find((x) => x.name === name);
  if (p === undefined || p.default === null || typeof p.default === 'string') throw new Error(`param ${name} has no value`);
  return p.default;
}

function elementwise(f: (...xs: number[]) => number, xs: NamedArray[], dims: readonly string[], shape: readonly number[]): NamedArray {
  const idx = xs.map((x) => broadcastIndex(x, dims, shape));
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  const args = new Array<number>(xs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < xs.length; k++) args[k] = xs[k]!.data[idx[k]![i]!]!;
    out[i] = f(...args);
  }
  return { dims, shape, data: out };
}

function reduce(f: NonNullable<ReturnType<typeof opByName>>['reduce'] & {}, n: IrNode, xs: NamedArray[], sizes: ReadonlyMap<string, number>): NamedArray {
  const x = xs[0]!;
  const w = n.attrs['where'] === true ? xs[xs.length - 1]! : null;
  const over = n.attrs['over'] as readonly string[];
  const outDims = n.type.kind === 'tensor' ? n.type.dims : [];
  const outShape = shapeOf(n, sizes);
  // Iterate x in an order with the kept dims outermost, the reduced dims innermost.
  const order = [...outDims, ...over];
  const orderShape = order.map((d) => x.shape[x.dims.indexOf(d)]!);
  const xi = broadcastIndex(x, order, orderShape);
  const wi = w === null ? null : broadcastIndex(w, order, orderShape);
  const inner = over.reduce((a, d) => a * x.shape[x.dims.indexOf(d)]!, 1);
  const nOut = outShape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(nOut);
  for (let o = 0; o < nOut; o++) {
    const vs: number[] = [];
    const ws: number[] | null = w === null ? null : [];
    for (let j = 0; j < inner; j++) {
      vs.push(x.data[xi[o * inner + j]!]!);
      if (ws !== null) ws.push(w!.data[wi![o * inner + j]!]!);
    }
    out[o] = f(vs, ws, n.attrs);
  }
  return { dims: outDims, shape: outShape, data: out };
}
