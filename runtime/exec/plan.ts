/**
 * IR -> plan: the ordered steps that compute the wanted outputs, cut at fed values. Each step
 * carries the node it came from (op, dims, spans); what a step does is its op's lowering.
 */
import type { IrGraph, IrNode } from '../../compiler/ir/graph.js';
import { opByName } from '../../compiler/ops/index.js';
import type { OpDef } from '../../compiler/ops/define.js';

/** One step of a plan. */
export interface PlanStep {
  readonly node: IrNode;
  readonly op: OpDef;
  /** Fed: the value comes from the caller, nothing is computed. */
  readonly fed: string | null;
  /** The named dims of each input, in canonical order. */
  readonly inputDims: readonly (readonly string[])[];
}

/** An executable plan. */
export interface Plan {
  readonly graph: IrGraph;
  readonly steps: readonly PlanStep[];
  /** Output name -> node id, for the outputs the plan computes. */
  readonly outputs: ReadonlyMap<string, number>;
  /** Fed name -> node id. */
  readonly fed: ReadonlyMap<string, number>;
  /**
   * Evaluate small gradient-free steps on the host, in float64 (runtime/exec/host-steps.ts), on
   * the host-memory backends. Optimized plans set it; `-O0` plans, the baseline optimized ones
   * are compared with, compute every step with TF.js.
   */
  readonly hostSmall: boolean;
}

/** How a plan runs (see `Plan`). */
export interface PlanOptions {
  /** `Plan.hostSmall` (default false). */
  readonly hostSmall?: boolean;
}

/** The names a value can be fed under: an input's name, a binding's `stage.name` and bare name. */
export function feedableNames(g: IrGraph): Map<string, number> {
  const names = new Map<string, number>();
  for (const n of g.ordered()) {
    if (n.op === 'input') names.set(String(n.attrs['name']), n.id);
    if (n.op === 'reward_fn') names.set(`reward_fn.${String(n.attrs['name'])}`, n.id);
  }
  for (const o of g.outputs) {
    if (o.name === 'loss' || o.name.startsWith('update.')) continue;
    names.set(o.name, o.node);
    const bare = o.name.slice(o.name.indexOf('.') + 1);
    if (!names.has(bare)) names.set(bare, o.node);
  }
  // A reward function's output may also be fed under its own name (`correct` for `reward_fn.correct`).
  for (const n of g.ordered()) if (n.op === 'reward_fn' && !names.has(String(n.attrs['name']))) names.set(String(n.attrs['name']), n.id);
  return names;
}

/** Whether the graph reads the standard input `name`. */
export function readsInput(g: IrGraph, name: string): boolean {
  return g.ordered().some((n) => n.op === 'input' && n.attrs['name'] === name);
}

/** Build a plan computing `want` (output names) when `fed` names are supplied. */
export function buildPlan(g: IrGraph, fed: readonly string[], want: readonly string[], options: PlanOptions = {}): Plan {
  const feedable = feedableNames(g);
  const fedIds = new Map<string, number>();
  for (const f of fed) {
    const id = feedable.get(f);
    if (id === undefined) throw new Error(`internal: ${f} is not feedable (validate feeds first)`);
    fedIds.set(f, id);
  }
  const fedById = new Map([...fedIds].map(([k, v]) => [v, k]));
  const outputs = new Map<string, number>();
  for (const o of g.outputs) if (want.includes(o.name)) outputs.set(o.name, o.node);
  const needed = new Set<number>();
  const stack = [...outputs.values()];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (needed.has(id)) continue;
    needed.add(id);
    if (!fedById.has(id)) stack.push(...g.node(id).inputs);
  }
  const steps: PlanStep[] = [];
  for (const n of g.ordered()) {
    if (!needed.has(n.id)) continue;
    const op = opByName(n.op);
    if (op === undefined) throw new Error(`internal: no op ${n.op}`);
    const inputDims = n.inputs.map((i) => {
      const t = g.node(i).type;
      return t.kind === 'tensor' ? t.dims : [];
    });
    steps.push({ node: n, op, fed: fedById.get(n.id) ?? null, inputDims });
  }
  return { graph: g, steps, outputs, fed: fedIds, hostSmall: options.hostSmall ?? false };
}

/** The source nodes (inputs, reward functions) a plan still needs from the caller. */
export function requiredInputs(plan: Plan): IrNode[] {
  return plan.steps.filter((s) => s.fed === null && (s.node.op === 'input' || s.node.op === 'reward_fn')).map((s) => s.node);
}
