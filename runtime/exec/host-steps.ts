/**
 * Host steps. On the host-memory backends (cpu, wasm) an optimized plan (`Plan.hostSmall`)
 * evaluates its small steps that no gradient reaches (an advantage stage's count, mean and std
 * over a group of [B,G]) in plain JS, float64, with the ops' reference semantics (the reference
 * interpreter's `evalNodeRef`), instead of through TF.js: there each `mean` or `std` lowering
 * launches a dozen kernels on a few hundred elements, and their launches, not their arithmetic,
 * are the cost. Float64 also keeps values from being rounded to float32 between small steps.
 *
 * A host value stays a float64 array until a TF.js step reads it or the caller may (a plan
 * output); then it is uploaded, once, as its node's dtype. Host steps are evaluated in runs: a
 * run ends when a TF.js step reads one of its values (or the plan ends), and is one TF.js kernel
 * named `HostSteps` (its evaluation and its uploads) attributed to its first step, so a profile
 * still shows the time.
 */
import type { IrNode } from '../../compiler/ir/graph.js';
import type { Tensor } from '../../compiler/ops/define.js';
import { asKernel, HOST_BACKENDS } from '../../compiler/ops/host-memory.js';
import { computableByReference, evalNodeRef, type ReferenceInputs } from '../reference/interpreter.js';
import type { NamedArray } from '../reference/named-array.js';
import type { TFModule } from '../backends/tf.js';
import type { Plan, PlanStep } from './plan.js';
import { StepError, shapeOf, type RunEnv } from './executor.js';

/**
 * The most elements a host step may output, and read from each TF.js tensor it takes. What
 * hosting saves is kernel launches, a fixed cost per kernel; what it costs grows with the
 * elements (a copy of each input read, plain JS in float64, an upload). So it is for
 * batch-level values: [B,G] is 512 elements at the bench's 64 x 8 (this leaves room for far
 * larger batches and groups), while a token-level [B,G,T] tensor there is 262,144 and stays
 * with TF.js and the fused kernels.
 */
export const HOST_STEP_MAX_ELEMENTS = 65_536;

/** The kernel name a run of host steps shows under in a profile. */
export const HOST_STEPS_KERNEL = 'HostSteps';

/** Upload host values (a batch entry, a host step's value) as a tensor of `dtype`, from a typed array of it (never through a JS array). */
export function uploadHost(tf: TFModule, t: { readonly shape: readonly number[]; readonly data: ArrayLike<number> }, dtype: 'float32' | 'int32' | 'bool'): Tensor {
  const shape = [...t.shape];
  if (dtype === 'float32') return tf.tensor(Float32Array.from(t.data), shape, dtype);
  if (dtype === 'int32') return tf.tensor(Int32Array.from(t.data), shape, dtype);
  return tf.tensor(Uint8Array.from(t.data, (v) => (v !== 0 ? 1 : 0)), shape, dtype);
}

const TF_DTYPE = { f32: 'float32', i32: 'int32', bool: 'bool' } as const;

/** A constant or a param: a host step reads its value from the graph, never from a tensor. */
function isConstant(n: IrNode): boolean {
  return n.op === 'const' || n.op === 'param';
}

/** The host steps of one run of a plan: which steps they are, and their values as the run goes. */
export class HostSteps {
  /** Host values, and the TF.js tensors host steps read, as float64 arrays by node id. */
  private readonly values = new Map<number, NamedArray>();
  /** The current run: host steps not evaluated yet. */
  private pending: PlanStep[] = [];
  private readonly ref: ReferenceInputs;

  private constructor(
    private readonly plan: Plan,
    private readonly env: RunEnv,
    /** The host steps' node ids. */
    private readonly hosted: ReadonlySet<number>,
    /** Constants and params only host steps read: they are not run at all. */
    private readonly skipped: ReadonlySet<number>,
    /** Host steps whose value a TF.js step or the caller reads: uploaded. */
    private readonly uploaded: ReadonlySet<number>,
  ) {
    this.ref = { inputs: {}, params: Object.fromEntries(env.params) };
  }

  /**
   * The host steps of running `plan` in `env`, or null when there are none: a plan without
   * `hostSmall`, or gradients that may reach any step (`reaches` null). On a device backend
   * (webgpu) a host step reads only constants, params, other host steps and fed values the
   * caller holds in host memory (`env.hostFeeds`): nothing is read back from the device, and an
   * advantage stage's few dozen small kernels, each a dispatch there, become one upload.
   */
  static of(plan: Plan, env: RunEnv, reaches: ReadonlySet<number> | null): HostSteps | null {
    if (!plan.hostSmall || reaches === null) return null;
    const onHost = HOST_BACKENDS.includes(env.backend);
    const fedId = new Map([...plan.fed].map(([name, id]) => [id, name]));
    const hostFed = (id: number): boolean => {
      const name = fedId.get(id);
      return name !== undefined && env.hostFeeds?.has(name) === true;
    };
    const unreadable = new Set<number>();
    const skipped = new Set<number>();
    const size = (id: number): number => {
      if (unreadable.has(id)) return Infinity;
      const t = plan.graph.node(id).type;
      if (t.kind !== 'tensor') return Infinity;
      try {
        return shapeOf(t.dims, env.sizes).reduce((a, b) => a * b, 1);
      } catch {
        return Infinity; // a dim no fed value gives: the executor reports it
      }
    };
    // A fed value of another rank than its node's (a scalar fed as [1]) would be misread by
    // name: TF.js steps, which broadcast it, read it instead.
    for (const [name, id] of plan.fed) {
      const t = env.feeds.get(name);
      const type = plan.graph.node(id).type;
      if (t !== undefined && type.kind === 'tensor' && t.rank !== type.dims.length) unreadable.add(id);
    }
    const hosted = new Set<number>();
    for (const { node, op, fed } of plan.steps) {
      if (fed !== null || op.lower === undefined || reaches.has(node.id) || isConstant(node) || !computableByReference(node)) continue;
      if (size(node.id) > HOST_STEP_MAX_ELEMENTS) continue;
      const readable = (i: number): boolean => onHost || hosted.has(i) || isConstant(plan.graph.node(i)) || hostFed(i);
      if (node.inputs.every((i) => (hosted.has(i) || size(i) <= HOST_STEP_MAX_ELEMENTS) && readable(i))) hosted.add(node.id);
    }
    if (hosted.size === 0) return null;
    const outputs = new Set(plan.outputs.values());
    const uploaded = new Set<number>([...outputs].filter((id) => hosted.has(id)));
    // Constants and params host steps read from the graph; one that only they read is never made a tensor.
    const readByTf = new Set<number>(outputs);
    for (const { node, fed } of plan.steps) {
      if (fed !== null || hosted.has(node.id)) continue;
      for (const i of node.inputs) {
        readByTf.add(i);
        if (hosted.has(i)) uploaded.add(i);
      }
    }
    for (const { node, fed } of plan.steps) if (fed === null && isConstant(node) && !readByTf.has(node.id)) skipped.add(node.id);
    return new HostSteps(plan, env, hosted, skipped, uploaded);
  }

  /** Whether this step is a host step. */
  has(step: PlanStep): boolean {
    return this.hosted.has(step.node.id);
  }

  /** Whether this step is not run: a constant or param only host steps read. */
  skips(step: PlanStep): boolean {
    return this.skipped.has(step.node.id);
  }

  /** Add a host step to the current run (evaluated when a TF.js step reads one of the run's values, or the plan ends). */
  add(step: PlanStep): void {
    this.pending.push(step);
  }

  /** Before a TF.js step: end the current run if the step reads one of its values. */
  before(step: PlanStep, vals: Map<number, Tensor>): void {
    if (this.pending.some((p) => step.node.inputs.includes(p.node.id))) this.flush(vals);
  }

  /**
   * End the current run: evaluate its steps and upload into `vals` those a TF.js step or the
   * caller reads, as one kernel, after telling `onStep` of the run's first step.
   */
  flush(vals: Map<number, Tensor>): void {
    if (this.pending.length === 0) return;
    const run = this.pending;
    this.pending = [];
    const { tf } = this.env;
    this.env.onStep?.(run[0]!);
    const ups: number[] = [];
    const outs = asKernel(tf, HOST_STEPS_KERNEL, [], () => {
      const made: Tensor[] = [];
      for (const step of run) {
        const { node } = step;
        try {
          for (const i of node.inputs) if (!this.values.has(i)) this.values.set(i, this.read(i, vals));
          const v = evalNodeRef(this.plan.graph, node, this.values, this.ref, this.env.sizes);
          if (v === null) throw new Error(`internal: host step %${node.id} ${node.op} has no value`);
          this.values.set(node.id, v);
          if (this.uploaded.has(node.id) && node.type.kind === 'tensor') {
            made.push(uploadHost(tf, v, TF_DTYPE[node.type.dtype]));
            ups.push(node.id);
          }
        } catch (e) {
          if (e instanceof StepError) throw e;
          throw new StepError(node, (e as Error).message);
        }
      }
      return made;
    });
    ups.forEach((id, k) => vals.set(id, outs[k]!));
  }

  /**
   * A value a host step reads that no host step made: a constant or param from the graph, a fed
   * value from the caller's host copy, else a TF.js value (on the host backends dataSync is a copy).
   */
  private read(id: number, vals: ReadonlyMap<number, Tensor>): NamedArray {
    const node = this.plan.graph.node(id);
    if (isConstant(node)) return evalNodeRef(this.plan.graph, node, this.values, this.ref, this.env.sizes)!;
    const type = node.type;
    if (type.kind !== 'tensor') throw new Error(`internal: host steps read %${id}, which is not a tensor`);
    const fed = [...this.plan.fed].find(([, fid]) => fid === id)?.[0];
    const host = fed === undefined ? undefined : this.env.hostFeeds?.get(fed);
    // As the fed tensor holds it (uploadHost's conversion): host and TF.js steps read one value.
    if (host !== undefined) return { dims: type.dims, shape: host.shape, data: Float64Array.from(type.dtype === 'f32' ? Float32Array.from(host.data) : type.dtype === 'i32' ? Int32Array.from(host.data) : Uint8Array.from(host.data, (v) => (v !== 0 ? 1 : 0))) };
    const t = vals.get(id);
    if (t === undefined) throw new Error(`internal: host steps read %${id}, which has no tensor value`);
    return { dims: type.dims, shape: t.shape, data: Float64Array.from(t.dataSync()) };
  }
}
