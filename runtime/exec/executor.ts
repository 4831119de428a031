/**
 * The plan executor. It knows no op by name: it casts and aligns inputs by the ops' traits and
 * the nodes' types, calls each op's lowering, and keeps spans to blame when a step fails.
 */
import type { IrNode } from '../../compiler/ir/graph.js';
import type { LowerEnv, Tensor } from '../../compiler/ops/define.js';
import type { DType } from '../../compiler/types.js';
import { castTo } from '../backends/fixes.js';
import type { TFModule } from '../backends/tf.js';
import { HostSteps } from './host-steps.js';
import type { Plan, PlanStep } from './plan.js';

/** A step that failed at run time, with the IR node (and so the source spans) it came from. */
export class StepError extends Error {
  constructor(
    readonly node: IrNode,
    message: string,
  ) {
    super(message);
    this.name = 'StepError';
  }
}

/** What a run needs besides the plan. */
export interface RunEnv {
  readonly tf: TFModule;
  readonly backend: string;
  /** Dimension sizes (from the fed tensors). */
  readonly sizes: ReadonlyMap<string, number>;
  /** Fed values by fed name. */
  readonly feeds: ReadonlyMap<string, Tensor>;
  /** Param values by name (already resolved from defaults and `--set`). */
  readonly params: ReadonlyMap<string, number | boolean>;
  /** Current values of state variables (a training run's, from earlier steps); others start from their initial value. */
  readonly state?: ReadonlyMap<string, Tensor>;
  /** The fed values whose gradients will be asked (undefined: any value may be differentiated). */
  readonly gradTargets?: ReadonlySet<string>;
  /** Called before each computed step (a profiler attributes the kernels that follow to it). */
  readonly onStep?: (step: PlanStep) => void;
  /**
   * Fed values as the caller holds them in host memory (a batch's entries), by fed name: an
   * optimized plan's host steps read these instead of reading tensors back, which on a device
   * backend (webgpu) is what lets them run at all.
   */
  readonly hostFeeds?: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: ArrayLike<number> }>;
}

const TF_DTYPE: Readonly<Record<DType, 'float32' | 'int32' | 'bool'>> = { f32: 'float32', i32: 'int32', bool: 'bool' };

function dimsOf(n: IrNode): readonly string[] {
  return n.type.kind === 'tensor' ? n.type.dims : [];
}

/** The runtime shape of a node's value. */
export function shapeOf(dims: readonly string[], sizes: ReadonlyMap<string, number>): number[] {
  return dims.map((d) => {
    const s = sizes.get(d);
    if (s === undefined) throw new Error(`no size is known for dimension \`${d}\`: feed a value that has it`);
    return s;
  });
}

/**
 * Run a plan; returns every computed value by node id. Call inside `tf.tidy` (or dispose the
 * values): intermediate tensors are not disposed here, so gradients can flow through them. A
 * host step's value (./host-steps.ts) is there when a TF.js step read it or it is a plan output.
 */
export function runPlan(plan: Plan, env: RunEnv): Map<number, Tensor> {
  const { tf } = env;
  const vals = new Map<number, Tensor>();
  const lowerEnv: LowerEnv = {
    param: (name) => {
      const v = env.params.get(name);
      if (v === undefined) throw new Error(`param \`${name}\` has no value: give it with --set ${name}=...`);
      const p = plan.graph.meta.params.find((x) => x.name === name);
      return typeof v === 'boolean' ? tf.scalar(v, 'bool') : tf.scalar(v, p?.type === 'int' ? 'int32' : 'float32');
    },
    input: (name) => {
      const v = env.feeds.get(name);
      if (v === undefined) throw new Error(`input \`${name}\` was not fed`);
      return v;
    },
    state: (name) => {
      const current = env.state?.get(name);
      if (current !== undefined) return current;
      const s = plan.graph.meta.state.find((x) => x.name === name)!;
      const dims = s.type.kind === 'tensor' ? s.type.dims : [];
      return tf.fill(shapeOf(dims, env.sizes), Number(s.init), s.type.kind === 'tensor' ? TF_DTYPE[s.type.dtype] : 'float32');
    },
  };
  const reaches = gradReach(plan, env.gradTargets);
  const host = HostSteps.of(plan, env, reaches);
  for (const step of plan.steps) {
    if (host?.skips(step) === true) continue;
    if (host?.has(step) === true) {
      host.add(step);
      continue;
    }
    if (step.fed === null) {
      host?.before(step, vals);
      env.onStep?.(step);
    }
    const v = step.fed !== null ? env.feeds.get(step.fed)! : runStep(plan, step, vals, env, lowerEnv, reaches);
    if (v !== null) vals.set(step.node.id, v);
  }
  // The plan's outputs among the last host steps.
  host?.flush(vals);
  return vals;
}

/** The nodes whose value depends on a gradient target (null: assume every node does). */
export function gradReach(plan: Plan, targets: ReadonlySet<string> | undefined): Set<number> | null {
  if (targets === undefined) return null;
  const out = new Set<number>();
  for (const s of plan.steps) {
    if (s.fed !== null ? targets.has(s.fed) : s.node.inputs.some((i) => out.has(i))) out.add(s.node.id);
  }
  return out;
}

function runStep(plan: Plan, step: PlanStep, vals: Map<number, Tensor>, env: RunEnv, lowerEnv: LowerEnv, reaches: Set<number> | null): Tensor | null {
  const { node, op } = step;
  if (op.lower === undefined || node.type.kind !== 'tensor') return null;
  const { tf } = env;
  const outDims = node.type.dims;
  const outType = TF_DTYPE[node.type.dtype];
  try {
    const raw = node.inputs.map((i) => vals.get(i)!);
    const xs = prepareInputs(step, raw, env);
    const axisDims = (node.attrs['over'] as readonly string[] | undefined) ?? (typeof node.attrs['dim'] === 'string' ? [node.attrs['dim']] : []);
    const x0Dims = step.inputDims[0] ?? [];
    const out = op.lower(tf, xs, node.attrs, {
      axes: axisDims.map((d) => x0Dims.indexOf(d)),
      outShape: shapeOf(outDims, env.sizes),
      inShape: xs[0]?.shape ?? [],
      backend: env.backend,
      env: lowerEnv,
      sizes: env.sizes,
      needsGrad: node.inputs.map((i) => reaches === null || reaches.has(i)),
      consts: node.inputs.map((i) => {
        const c = plan.graph.node(i);
        return c.op === 'const' && typeof c.attrs['value'] === 'number' ? c.attrs['value'] : undefined;
      }),
    });
    return castTo(tf, out, outType);
  } catch (e) {
    if (e instanceof StepError) throw e;
    throw new StepError(node, (e as Error).message);
  }
}

/** Cast inputs to the op's dtypes and align them by dim name, as the op's traits ask. */
function prepareInputs(step: PlanStep, raw: Tensor[], env: RunEnv): Tensor[] {
  const { tf } = env;
  const { node, op } = step;
  const outDims = dimsOf(node);
  const dtype = node.type.kind === 'tensor' ? node.type.dtype : 'f32';
  const isReduction = op.traits.includes('reduction');
  return raw.map((t, k) => {
    const spec = op.inputs[k];
    let want: 'float32' | 'int32' | 'bool' | null = null;
    if (spec?.kind === 'bool') want = 'bool';
    else if (isReduction) want = k === 0 ? TF_DTYPE[dtype] : 'float32';
    else if (op.traits.includes('elementwise')) {
      if (dtype === 'bool') want = raw.every((r) => r.dtype === 'int32') ? 'int32' : 'float32';
      else want = TF_DTYPE[dtype];
    }
    let x = want !== null ? castTo(tf, t, want) : t;
    const dims = step.inputDims[k] ?? [];
    if (op.traits.includes('elementwise') || op.traits.includes('broadcast')) {
      x = align(tf, x, dims, outDims);
    }
    else if (isReduction && k > 0) {
      const xDims = step.inputDims[0] ?? [];
      x = tf.broadcastTo(align(tf, x, dims, xDims), raw[0]!.shape);
    }
    return x;
  });
}

/** Reshape x (dims `from`) to the rank of `to`, inserting size-1 axes for the dims it lacks. */
function align(tf: TFModule, x: Tensor, from: readonly string[], to: readonly string[]): Tensor {
  if (from.length === to.length) return x;
  const shape = to.map((d) => {
    const i = from.indexOf(d);
    return i < 0 ? 1 : x.shape[i]!;
  });
  return tf.reshape(x, shape);
}
