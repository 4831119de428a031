/**
 * Adapters: the exported stage functions wrapped for a trainer. The trainer's modules are
 * imported guarded, so the file compiles and its plain functions run without them installed.
 * - verl: an advantage estimator and a policy loss registered as `rlp_<name>`, over verl's flat
 *   [N, T] tensors, regrouped to [B, G, T] by the prompt index verl passes (`uid`).
 * - TRL: a `GRPOTrainer` subclass whose advantages and `_compute_loss` are the pipeline's.
 */
import type { IrGraph } from '../ir/graph.js';
import { pyLiteral } from '../ops/sources.js';
import type { StageFn } from './emit-stage.js';
import { pyName } from './python.js';
import { trlAdapter } from './adapter-trl.js';
import { verlAdapter } from './adapter-verl.js';

/** An adapter's source: guarded imports and the wrapping code. */
export interface Adapter {
  readonly imports?: string;
  readonly code: string;
}

/** What adapters need to know about the export. */
export interface AdapterInput {
  readonly pipeline: string;
  readonly advantage: StageFn | null;
  readonly loss: StageFn | null;
  /** The update block's function (pipelines with `state`): trainers run none, so adapters say so. */
  readonly update: StageFn | null;
  /** The advantage's dims (`[B, G]` or `[B, G, T]`). */
  readonly advantageDims: readonly string[];
  /** Whether the loss treats prompts and samples differently (reduces over B or G alone, indexes G). */
  readonly lossNeedsGroups: boolean;
}

/** `PARAMS = {...}`: every param any function takes, with the pipeline's defaults. */
export function paramsDict(fns: readonly StageFn[]): string {
  const seen = new Map<string, string>();
  for (const f of fns) for (const p of f.params) seen.set(pyName(p.name), p.default === null ? 'None' : pyLiteral(p.default, p.type === 'float'));
  const body = [...seen].map(([k, v]) => `    ${JSON.stringify(k)}: ${v},`).join('\n');
  return `# The pipeline's params as the adapters pass them: update before training to change them.\nPARAMS = {\n${body}\n}`;
}

/**
 * Whether a stage function treats B and G differently (so rows cannot be laid out as [N, 1, T]):
 * some node it computes reduces over B or G alone, or indexes one of them. Only the nodes the
 * function computes count (`count(reward, over [B, G])` reads the reward's shape, not the stage
 * that computed it).
 */
export function needsGroups(g: IrGraph, fn: StageFn | null): boolean {
  if (fn === null) return false;
  return fn.nodes.some((id) => {
    const n = g.node(id);
    const over = (n.attrs['over'] as readonly string[] | undefined) ?? (typeof n.attrs['dim'] === 'string' ? [n.attrs['dim']] : []);
    return over.includes('B') !== over.includes('G');
  });
}

/** The adapter for a trainer. */
export function adapterFor(target: 'verl' | 'trl', g: IrGraph, fns: readonly StageFn[]): Adapter {
  const advantage = fns.find((f) => f.fn === 'compute_advantage') ?? null;
  const loss = fns.find((f) => f.fn === 'compute_loss') ?? null;
  const advNode = advantage === null ? undefined : g.outputs.filter((o) => o.name.startsWith('advantage.')).pop();
  const t = advNode === undefined ? undefined : g.node(advNode.node).type;
  const input: AdapterInput = {
    pipeline: g.meta.pipeline,
    advantage,
    loss,
    update: fns.find((f) => f.fn === 'compute_update') ?? null,
    advantageDims: t !== undefined && t.kind === 'tensor' ? t.dims : [],
    lossNeedsGroups: needsGroups(g, loss),
  };
  const params = paramsDict(fns);
  const a = target === 'verl' ? verlAdapter(input) : trlAdapter(input);
  return { imports: a.imports, code: `${params}\n\n\n${a.code}` };
}
