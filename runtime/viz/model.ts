/**
 * The drawing model of `rlp viz`: nodes, edges and clusters, independent of the output form.
 * The binding view, the op view and the diff build one; DOT, SVG and HTML are printed from it.
 */
import { STAGES } from '../../compiler/check/inputs.js';
import type { IrNode } from '../../compiler/ir/graph.js';
import { formatType, type Type } from '../../compiler/types.js';
import { lineCol, type Span } from '../../grammar/source.js';

/** What a node stands for; it decides the node's shape. */
export type VizKind = 'binding' | 'loss' | 'effect' | 'op' | 'input' | 'reward-fn' | 'state' | 'param' | 'const';

/** How a node or edge takes part in a `--diff` drawing: in both alike, changed, or in one only. */
export type DiffMark = 'same' | 'changed' | 'only-a' | 'only-b';

/** A place in the source, resolved for display. */
export interface SpanInfo {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The span's text (cut at 400 characters). */
  readonly text: string;
  /** The whole first line of the span. */
  readonly lineText: string;
}

/** What clicking a node shows. */
export interface NodeInfo {
  readonly title: string;
  readonly op: string;
  readonly type: string;
  readonly stage: string | null;
  readonly spans: readonly SpanInfo[];
  /** Extra lines: params folded in, fused kernels, value summaries, diff notes. */
  readonly notes: readonly string[];
}

/** One drawn node. `id` is its DOT/SVG id; `search` the names a search finds it by. */
export interface VizNode {
  readonly id: string;
  readonly kind: VizKind;
  readonly lines: readonly string[];
  readonly cluster: string | null;
  readonly fused: boolean;
  readonly sharedPrefix: boolean;
  readonly diff: DiffMark | null;
  readonly search: readonly string[];
  readonly info: NodeInfo;
}

/** One drawn edge, labelled with the type of the value it carries. */
export interface VizEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly diff: DiffMark | null;
  /** Data the runtime passes outside the IR (the rollout's completions to rewards and inputs): dotted. */
  readonly implicit?: boolean;
}

/** A cluster: a stage, or the policy forwards that share each prompt's prefix. */
export interface VizCluster {
  readonly id: string;
  readonly label: string;
  readonly dashed: boolean;
}

/** A whole drawing. */
export interface VizGraph {
  readonly name: string;
  readonly title: string;
  readonly nodes: readonly VizNode[];
  readonly edges: readonly VizEdge[];
  readonly clusters: readonly VizCluster[];
}

/** Stage clusters in the order the stages run. */
export const STAGE_ORDER: readonly string[] = Object.freeze([...STAGES, 'update']);

/**
 * Inputs `rlp run` computes with the policy forward that encodes each prompt once for its whole
 * group (the shared-prefix forward, when the batch's saving is worth it; runtime/train/step.ts).
 */
export const SHARED_PREFIX_INPUTS: readonly string[] = Object.freeze(['logp', 'old_logp', 'ref_logp', 'entropy']);

/** The cluster of the shared-prefix policy forwards. */
export const SHARED_PREFIX_CLUSTER: VizCluster = Object.freeze({
  id: 'policy',
  label: 'policy forwards: each prompt encoded once for its G completions (shared prefix)',
  dashed: true,
});

/** The stage clusters a drawing needs, in run order. */
export function stageClusters(used: ReadonlySet<string>): VizCluster[] {
  return STAGE_ORDER.filter((s) => used.has(s)).map((s) => ({ id: s, label: s, dashed: false }));
}

/**
 * A value's type as an edge shows it: `f32[B,G,T] @mask` (valid only where `mask` is 1),
 * `f32[B,G,T] !mask` (zero wherever `mask` is 0: it can serve as the mask).
 */
export function edgeType(t: Type): string {
  if (t.kind !== 'tensor') return t.kind;
  return formatType(t) + (t.mask !== null ? ` @${t.mask}` : '') + (t.covers !== null ? ` !${t.covers}` : '');
}

/** Whether a node is a fused kernel (named `fused...` by the fusion pass). */
export function isFused(n: IrNode): boolean {
  return n.op.includes('fused');
}

/** A node's leaf kind (inputs, reward functions, state, params, constants), or null for a computation. */
export function leafKind(n: IrNode): 'input' | 'reward-fn' | 'state' | 'param' | 'const' | null {
  switch (n.op) {
    case 'input':
      return 'input';
    case 'reward_fn':
      return 'reward-fn';
    case 'state':
      return 'state';
    case 'param':
      return 'param';
    case 'const':
      return 'const';
    default:
      return null;
  }
}

/** A span resolved to file, line, column, its text and its source line. */
export function spanInfo(s: Span): SpanInfo {
  const lc = lineCol(s.file, s.start);
  const from = s.file.lineStarts[lc.line - 1] ?? 0;
  const nl = s.file.text.indexOf('\n', from);
  const text = s.file.text.slice(s.start, s.end);
  return {
    file: s.file.path,
    line: lc.line,
    column: lc.column,
    text: text.length > 400 ? `${text.slice(0, 400)}...` : text,
    lineText: s.file.text.slice(from, nl < 0 ? undefined : nl),
  };
}

/** Break a label into lines of at most `width` characters at spaces. */
export function wrap(text: string, width = 44): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out;
}

/** A param value as a label shows it. */
export function formatValue(v: number | string | boolean | null): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}
