/**
 * One loss-and-gradient pass of a pipeline over a rollout batch, split into micro-batches. Every
 * value the loss uses that does not depend on the policy's log-probs (advantages, global
 * denominators such as `tokens` and `seqs`, anything computed from rewards) is computed once on the
 * whole batch and fed to each micro-batch, sliced along B when it has B. So the summed micro-batch
 * gradients do not depend on how the batch was split.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TFModule } from '../backends/tf.js';
import { runPlan } from '../exec/executor.js';
import type { CompiledProgram } from '../exec/program.js';
import { hasRaggedAttention } from '../policy/ragged-attention.js';
import { completionLogitsPacked, completionLogitsRagged, completionLogitsShared, completionLogitsUnshared, entropyOf, packCompletions, pickLogProbs, unpack, type Runner } from '../policy/model.js';
import { policyVariables, type PolicyParams } from '../policy/params.js';

type Tensor = tfc.Tensor;

/** Rollouts of B prompts x G completions, padded to R tokens. */
export interface RolloutBatch {
  readonly B: number;
  readonly G: number;
  readonly R: number;
  readonly prompts: readonly Int32Array[];
  /** Completion ids [B, G, R]. */
  readonly completions: Int32Array;
  /**
   * Each completion's real tokens (forced and sampled) [B * G], the rest of its R being padding:
   * when given, the policy's forward runs over the real tokens only (log-probs 0 on padding).
   */
  readonly lengths?: Int32Array;
  /** 1 on completion tokens [B, G, R]. */
  readonly mask: Float32Array;
  /** The old policy's log-probs [B, G, R] (0 off the mask); absent with `currentInTape`. */
  readonly oldLogp?: Float32Array;
  readonly refLogp: Float32Array;
  /**
   * The policy's own outputs on the whole batch [B, G, R] (unmasked), as the weights a pass starts
   * from give them (`policyOnHost`'s `raw`): the pass's batch-level values are computed from them
   * instead of running that forward again. Only valid while the weights are unchanged.
   */
  readonly before?: { readonly logp: Float32Array; readonly entropy: Float32Array | null };
  /**
   * The old log-probs are the current policy's: computed by the pass's own forward, inside the
   * gradient tape, instead of a separate forward before it (one micro-batch only). The pass returns
   * them as `current`; the loss, its gradients and every batch-level value are the same.
   */
  readonly currentInTape?: boolean;
  /** Values fed by name, one per completion [B, G]: `reward`, or `reward_fn.NAME` for each reward function. */
  readonly perCompletion: Readonly<Record<string, Float32Array>>;
  /** Values fed by name, one per prompt [B] (e.g. `greedy_reward`). */
  readonly perPrompt?: Readonly<Record<string, Float32Array>>;
  /** Values fed by name, one per completion token [B, G, R] (e.g. `forced`, `value_start`). */
  readonly perToken?: Readonly<Record<string, Float32Array>>;
  /** The training step, from 0 (the `step` input). */
  readonly step?: number;
  /** The run's number of steps (the `total_steps` input: schedules such as MDPO's). */
  readonly totalSteps?: number;
}

/**
 * Below this analytic saving G(P+R)/(P+GR), the shared-prefix forward's extra ops cost about as
 * much as the prompt work they save (npm run bench prefix: 1.0x at 1.33, 1.3x at 1.78), so the
 * plain forward runs instead. Both give the same log-probs and gradients.
 */
export const SHARE_MIN_SAVING = 1.5;

/** Whether a prompt of P tokens with G completions of R tokens is worth the shared-prefix forward. */
export function worthSharing(P: number, G: number, R: number): boolean {
  return (G * (P + R)) / (P + G * R) >= SHARE_MIN_SAVING;
}

/**
 * The policy's log-probs of the completions of prompts [from, to): [to - from, G, R], and with
 * `entropy` the per-token entropy of its distributions, from one batched forward. With `lengths`,
 * the packed shared-prefix forward over the real tokens only (0 on padding), its blocks padded to
 * the whole batch's longest group; without, shared-prefix when the whole batch's analytic saving
 * (mean prompt length) is worth it, plain otherwise. Either way the same for every micro-batch
 * (prompts padded to the whole batch's longest).
 */
export function policyOutputs(
  r: Runner, p: PolicyParams, b: Pick<RolloutBatch, 'prompts' | 'completions' | 'G' | 'R' | 'lengths'>, from: number, to: number, entropy = false,
): { logp: Tensor; entropy?: Tensor } {
  const padTo = Math.max(...b.prompts.map((x) => x.length));
  const completions = b.completions.subarray(from * b.G * b.R, to * b.G * b.R);
  if (b.lengths !== undefined && b.lengths.some((x) => x > 0)) {
    const packTo = packCompletions(b.completions, b.lengths, b.prompts.length, b.G, b.R).Cm;
    const lengths = b.lengths.subarray(from * b.G, to * b.G);
    const pk = packCompletions(completions, lengths, to - from, b.G, b.R, packTo);
    const logits = hasRaggedAttention(r.backend)
      ? completionLogitsRagged(r, p, b.prompts.slice(from, to), completions, b.G, b.R, lengths)
      : completionLogitsPacked(r, p, b.prompts.slice(from, to), completions, b.G, b.R, lengths, padTo, packTo);
    const logp = unpack(r, pickLogProbs(r.tf, logits, pk.ids), pk, to - from, b.G, b.R);
    return entropy ? { logp, entropy: unpack(r, entropyOf(r.tf, logits), pk, to - from, b.G, b.R) } : { logp };
  }
  const P = b.prompts.reduce((a, x) => a + x.length, 0) / b.prompts.length;
  const logitsOf = worthSharing(P, b.G, b.R) ? completionLogitsShared : completionLogitsUnshared;
  const logits = logitsOf(r, p, b.prompts.slice(from, to), completions, b.G, b.R, padTo);
  const logp = pickLogProbs(r.tf, logits, completions);
  return entropy ? { logp, entropy: entropyOf(r.tf, logits) } : { logp };
}

/** Set the policy's outputs the pipeline reads (`logp`, `entropy`: `reads`) in feeds. */
function feedPolicy(feeds: Map<string, Tensor>, r: Runner, p: PolicyParams, b: RolloutBatch, from: number, to: number, reads: readonly string[]): void {
  if (reads.length === 0) return;
  const out = policyOutputs(r, p, b, from, to, reads.includes('entropy'));
  if (reads.includes('logp')) feeds.set('logp', out.logp);
  if (out.entropy !== undefined) feeds.set('entropy', out.entropy);
}

/** The standard inputs the policy computes inside the gradient tape. */
const POLICY_INPUTS: readonly string[] = ['logp', 'entropy'];

/** The feedable outputs of the loss's computation that do not depend on `logp` or `entropy` (see ProgramOutput.batchLevel). */
export function batchLevelOutputs(program: CompiledProgram): string[] {
  return program.outputs.filter((o) => o.batchLevel).map((o) => o.name);
}

/** The result of a pass: the loss, the summed gradients by variable position, and the batch-level values. */
export interface LossAndGrads {
  readonly loss: number;
  readonly grads: Tensor[];
  /** Host copies of every value computed once on the whole batch (advantages, rewards, denominators). */
  readonly shared: Readonly<Record<string, Float32Array>>;
  /** The pipeline's importance ratio (the program's metrics.ratio) under the policy this pass starts from, when it has one. */
  readonly ratio?: { readonly values: Float32Array; readonly dims: readonly string[] };
  /** The new values of the pipeline's state variables (its `update` block), on the whole batch. */
  readonly updates: Readonly<Record<string, HostValue>>;
  /** With `currentInTape`: the policy's log-probs (0 off the mask) and its raw outputs (as `policyOnHost` gives them). */
  readonly current?: { readonly logp: Float32Array; readonly raw: { readonly logp: Float32Array; readonly entropy: Float32Array | null } };
}

/** A value on the host: shape and row-major data. */
export interface HostValue {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/**
 * Compute the loss and its gradients in the policy's variables, over `parts` micro-batches. `state`
 * holds the current values of the pipeline's state variables (missing ones start from their
 * initial value).
 */
export async function lossAndGrads(
  r: Runner, program: CompiledProgram, p: PolicyParams, b: RolloutBatch, params: ReadonlyMap<string, number | boolean>, parts: number,
  state: Readonly<Record<string, HostValue>> = {},
): Promise<LossAndGrads> {
  const { tf } = r;
  const stateTensors = new Map(Object.entries(state).map(([k, v]) => [k, tf.tensor(v.data as number[], [...v.shape])] as const));
  if (b.B % parts !== 0) throw new Error(`cannot split ${b.B} prompts into ${parts} equal micro-batches`);
  const vars = policyVariables(p);
  const shape = [b.B, b.G, b.R];
  const sizes = new Map([['B', b.B], ['G', b.G], ['T', b.R]]);
  const slice = (x: Tensor, from: number, n: number): Tensor => (x.shape.length === 0 ? x : tf.slice(x, [from], [n]));
  const tape = b.currentInTape === true;
  if (tape && parts !== 1) throw new Error('internal: the current forward inside the tape needs one micro-batch');
  if (!tape && b.oldLogp === undefined) throw new Error('internal: no old log-probs');
  const whole = new Map<string, Tensor>([
    ...(b.oldLogp === undefined ? [] : [['old_logp', tf.tensor(b.oldLogp, shape)] as [string, Tensor]]),
    ['ref_logp', tf.tensor(b.refLogp, shape)],
    ['mask', tf.tensor(b.mask, shape)],
    ...Object.entries(b.perCompletion).map(([k, v]) => [k, tf.tensor(v, [b.B, b.G])] as [string, Tensor]),
    ...Object.entries(b.perPrompt ?? {}).map(([k, v]) => [k, tf.tensor(v, [b.B])] as [string, Tensor]),
    ...Object.entries(b.perToken ?? {}).map(([k, v]) => [k, tf.tensor(v, shape)] as [string, Tensor]),
    ...(b.step === undefined ? [] : [['step', tf.scalar(b.step, 'int32')] as [string, Tensor]]),
    ...(b.totalSteps === undefined ? [] : [['total_steps', tf.scalar(b.totalSteps, 'int32')] as [string, Tensor]]),
  ]);
  // Feed what the pipeline reads (a fed `reward` replaces a reward stage's `reward` binding).
  const feedable = program.feedable;
  const reads = POLICY_INPUTS.filter((n) => program.reads(n));
  for (const k of [...whole.keys()]) {
    if (!feedable.has(k)) {
      tf.dispose(whole.get(k)!);
      whole.delete(k);
    }
  }
  const shared = batchLevelOutputs(program);
  const ratioName = program.metrics.ratio;
  const updateNames = program.outputs.filter((o) => o.stage === 'update').map((o) => o.name);
  // Fractions a pipeline reports (`loss.frac_*` scalars) that depend on the policy (tokens a
  // covariance or entropy selection picked): computed once on the whole batch, for the metrics only.
  const fracNames = program.metrics.fractions.filter((n) => !shared.includes(n));
  const wanted = [...shared, ...(ratioName === null ? [] : [ratioName]), ...updateNames, ...fracNames];
  // The whole batch once, without gradients: every value that does not depend on logp (and the
  // importance ratio, for the clip metrics).
  const batchValuesOf = (base: ReadonlyMap<string, Tensor>, before: RolloutBatch['before']): Map<string, Tensor> => new Map<string, Tensor>(
    Object.entries(
      tf.tidy((): Record<string, Tensor> => {
        const feeds = new Map(base);
        if (before !== undefined && (before.entropy !== null || !reads.includes('entropy'))) {
          // The same forward already ran on these weights: its outputs, bit for bit.
          if (reads.includes('logp')) feeds.set('logp', tf.tensor(before.logp, shape));
          if (reads.includes('entropy')) feeds.set('entropy', tf.tensor(before.entropy!, shape));
        } else feedPolicy(feeds, r, p, b, 0, b.B, reads);
        const plan = program.plan([...feeds.keys()], wanted);
        const vals = runPlan(plan, { tf, backend: r.backend, sizes, feeds, params, state: stateTensors });
        return Object.fromEntries(wanted.map((name) => [name, vals.get(plan.outputs.get(name)!)!]));
      }),
    ),
  );
  let batchValues = tape ? new Map<string, Tensor>() : batchValuesOf(whole, b.before);
  let ratio: LossAndGrads['ratio'];
  const updates: Record<string, HostValue> = {};
  const sharedHost: Record<string, Float32Array> = {};
  // The batch-level values on the host; afterwards batchValues holds the shared ones only.
  const readBack = async (): Promise<void> => {
    if (ratioName !== null) {
      const t = batchValues.get(ratioName)!;
      ratio = { values: Float32Array.from(await t.data()), dims: program.output(ratioName)!.dims };
      t.dispose();
      batchValues.delete(ratioName);
    }
    for (const name of updateNames) {
      const t = batchValues.get(name)!;
      updates[name.slice('update.'.length)] = { shape: t.shape, data: Array.from(await t.data()) };
      t.dispose();
      batchValues.delete(name);
    }
    for (const name of fracNames) {
      const t = batchValues.get(name)!;
      sharedHost[name] = Float32Array.from(await t.data());
      t.dispose();
      batchValues.delete(name);
    }
    for (const [k, v] of batchValues) sharedHost[k] = Float32Array.from(await v.data());
  };
  if (!tape) await readBack();
  let current: LossAndGrads['current'];
  const step = b.B / parts;
  let loss = 0;
  let grads: Tensor[] | null = null;
  try {
    for (let from = 0; from < b.B; from += step) {
      const feeds = new Map<string, Tensor>();
      for (const [k, v] of whole) feeds.set(k, slice(v, from, step));
      for (const [k, v] of batchValues) {
        feeds.set(k, program.output(k)!.dims[0] === 'B' ? slice(v, from, step) : v);
      }
      const mbSizes = new Map(sizes).set('B', step);
      const { value, grads: gs } = tf.variableGrads(() => {
        const f = new Map(feeds);
        if (tape) {
          // The current policy's forward, once: read back for the old log-probs and the
          // batch-level values, and fed (on the tape) to the loss.
          const out = policyOutputs(r, p, b, 0, b.B, true);
          const raw = { logp: Float32Array.from(out.logp.dataSync()), entropy: out.entropy === undefined ? null : Float32Array.from(out.entropy.dataSync()) };
          current = { logp: Float32Array.from(raw.logp, (v, i) => (b.mask[i] === 1 ? v : 0)), raw };
          if (feedable.has('old_logp')) f.set('old_logp', tf.tensor(current.logp, shape));
          batchValues = batchValuesOf(f, raw);
          for (const t of batchValues.values()) tf.keep(t);
          for (const k of shared) f.set(k, batchValues.get(k)!);
          if (reads.includes('logp')) f.set('logp', out.logp);
          if (reads.includes('entropy')) f.set('entropy', out.entropy!);
        } else feedPolicy(f, r, p, b, from, from + step, reads);
        const plan = program.plan([...[...f.keys()].filter((k) => !reads.includes(k)), ...reads], ['loss']);
        return runPlan(plan, { tf, backend: r.backend, sizes: mbSizes, feeds: f, params, state: stateTensors }).get(plan.outputs.get('loss')!)! as tfc.Scalar;
      }, vars);
      loss += (await value.data())[0]!;
      value.dispose();
      const list = vars.map((v) => gs[v.name]!);
      if (grads === null) grads = list;
      else {
        const sum: Tensor[] = grads.map((acc, i) => tf.add(acc, list[i]!));
        tf.dispose([...grads, ...list]);
        grads = sum;
      }
      tf.dispose([...feeds.values()].filter((t) => ![...whole.values(), ...batchValues.values()].includes(t)));
    }
    if (tape) await readBack();
  } finally {
    tf.dispose([...whole.values(), ...batchValues.values(), ...stateTensors.values()]);
  }
  const extra = current === undefined ? {} : { current };
  return ratio === undefined ? { loss, grads: grads!, shared: sharedHost, updates, ...extra } : { loss, grads: grads!, shared: sharedHost, ratio, updates, ...extra };
}
