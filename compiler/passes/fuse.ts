/**
 * Fusion: maximal regions of elementwise ops (and `expand`), each with up to two trailing
 * reductions (`sum`, `mean`, `count`, masked or not: over T, then over B,G), become one `fused`
 * node whose body keeps the ops (compiler/codegen/body.ts). A value leaves a region only as its
 * root: a node used by another node outside the region is not absorbed. A node named as an
 * output (every binding is one) is absorbed and also kept as it was, so `rlp eval` still reports
 * it; a plan that wants only the loss (training, `--repeat`) computes the fused node alone.
 * Outputs that do not depend on the policy (`logp`, `entropy`) are never absorbed: those are
 * the batch-level values (advantages, denominators) a trainer computes once and feeds to every
 * micro-batch, so their node must stay the one that is fed.
 */
import { bodyAttr, FUSABLE_REDUCTIONS, type BodyNode, type FusedBody } from '../codegen/body.js';
import type { IrGraph, IrNode } from '../ir/graph.js';
import { renumber } from '../ir/graph.js';
import { opByName } from '../ops/index.js';
import type { TensorType } from '../types.js';
import { definePass } from './define.js';

/** Whether a node can be computed inside a fused body, one element at a time. */
function isElement(n: IrNode): boolean {
  if (n.type.kind !== 'tensor' || n.effects) return false;
  if (n.op === 'expand') return true;
  const op = opByName(n.op);
  return op !== undefined && op.traits.includes('elementwise') && op.scalar !== undefined && op.grad !== undefined;
}

function isReduction(n: IrNode): boolean {
  return n.type.kind === 'tensor' && FUSABLE_REDUCTIONS.includes(n.op);
}

export const fuse = definePass({
  name: 'fuse',
  summary: 'Fuse maximal elementwise regions with their trailing masked reductions into `fused` nodes (one generated kernel each).',
  run(g) {
    const users = new Map<number, number[]>();
    for (const n of g.ordered()) users.set(n.id, g.users(n.id));
    const taken = new Set<number>();
    const policy = policyDependent(g);
    const barrier = new Set(g.outputs.map((o) => o.node).filter((id) => !policy.has(id)));
    const replaced = new Map<number, IrNode>();
    const order = g.ordered().reverse();
    for (const root of order) {
      if (taken.has(root.id)) continue;
      const region = grow(g, root, users, taken, barrier);
      if (region === null) continue;
      for (const id of region.members) taken.add(id);
      replaced.set(root.id, region.node);
    }
    const nodes = new Map<number, IrNode>();
    for (const n of g.ordered()) nodes.set(n.id, replaced.get(n.id) ?? n);
    return renumber(nodes, g.outputs, g.meta);
  },
});

/** Nodes whose value depends on the policy's outputs (the inputs `logp` and `entropy`). */
export function policyDependent(g: IrGraph): Set<number> {
  const out = new Set<number>();
  for (const n of g.ordered()) {
    if ((n.op === 'input' && (n.attrs['name'] === 'logp' || n.attrs['name'] === 'entropy')) || n.inputs.some((i) => out.has(i))) out.add(n.id);
  }
  return out;
}

interface Region {
  readonly members: Set<number>;
  readonly node: IrNode;
}

/** The region rooted at `root`, or null when nothing worth fusing is there. */
function grow(g: IrGraph, root: IrNode, users: Map<number, number[]>, taken: Set<number>, barrier: Set<number>): Region | null {
  const members = new Set<number>([root.id]);
  const absorbable = (id: number): boolean => !taken.has(id) && !barrier.has(id) && (users.get(id) ?? []).every((u) => members.has(u));
  // The reduction chain at the root: R2(R1(x)) or R1(x); R2's mask stays a leaf.
  const reductions: IrNode[] = [];
  let top = root;
  if (isReduction(root)) {
    reductions.push(root);
    const x = g.node(root.inputs[0]!);
    if (isReduction(x) && absorbable(x.id)) {
      members.add(x.id);
      reductions.unshift(x);
      top = x;
    }
  } else if (!isElement(root)) {
    return null;
  }
  const frozen = new Set<number>();
  if (reductions.length === 2 && reductions[1]!.attrs['where'] === true) frozen.add(reductions[1]!.inputs[1]!);
  // The elementwise part: grow from the first reduction's inputs (or the root) to a fixpoint.
  const seeds = reductions.length > 0 ? top.inputs.slice(0, top.attrs['where'] === true ? 2 : 1) : [root.id];
  if (reductions.length > 0) {
    const x = g.node(seeds[0]!);
    if (isElement(x) && absorbable(x.id)) members.add(x.id);
    const w = seeds[1];
    if (w !== undefined && isElement(g.node(w)) && absorbable(w) && w !== seeds[0]) members.add(w);
  }
  // A worklist, not a rescan to a fixpoint (quadratic on long chains): an input rejected because
  // one of its users was outside is looked at again when that user joins.
  const work = [...members];
  while (work.length > 0) {
    const n = g.node(work.pop()!);
    if (isReduction(n)) continue;
    for (const i of n.inputs) {
      if (members.has(i) || frozen.has(i)) continue;
      const m = g.node(i);
      if (isElement(m) && absorbable(i)) {
        members.add(i);
        work.push(i);
      }
    }
  }
  const elementCount = [...members].filter((id) => !isReduction(g.node(id))).length;
  // A lone masked reduction is worth a kernel too: its stock lowering selects, multiplies and
  // materializes the full input several times (forward and backward), the kernel reads it once.
  const loneMasked = members.size === 1 && reductions.length === 1 && root.attrs['where'] === true;
  if ((members.size < 2 && !loneMasked) || (reductions.length === 0 && elementCount < 2)) return null;
  return { members, node: build(g, root, members) };
}

/** The fused node replacing `root`: its leaves are the region's inputs from outside. */
function build(g: IrGraph, root: IrNode, members: Set<number>): IrNode {
  const ids = [...members].sort((a, b) => a - b);
  const index = new Map(ids.map((id, k) => [id, k]));
  const leaves: number[] = [];
  const leafIndex = new Map<number, number>();
  const nodes: BodyNode[] = ids.map((id) => {
    const n = g.node(id);
    const args = n.inputs.map((i) => {
      const k = index.get(i);
      if (k !== undefined) return k;
      let l = leafIndex.get(i);
      if (l === undefined) {
        l = leaves.length;
        leaves.push(i);
        leafIndex.set(i, l);
      }
      return -l - 1;
    });
    return { op: n.op, args, attrs: n.attrs, type: n.type as TensorType };
  });
  const body: FusedBody = { leaves: leaves.map((i) => g.node(i).type as TensorType), nodes };
  const rootSpans = new Set(root.spans);
  const spans = [...root.spans];
  for (const id of ids) for (const s of g.node(id).spans) if (!rootSpans.has(s)) spans.push(s);
  return { id: root.id, op: 'fused', inputs: leaves, attrs: { body: bodyAttr(body), ops: ids.map((id) => g.node(id).op).join(' ') }, type: root.type, spans, effects: false };
}
