/** What both kinds of training step share: the policies, optimizer, params and carried state, and host-side helpers. */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TFModule } from '../backends/tf.js';
import type { CompiledProgram } from '../exec/program.js';
import type { Runner } from '../policy/model.js';
import type { PolicyParams } from '../policy/params.js';
import type { charTokenizer } from '../policy/tokenizer.js';
import type { AdamState } from './adam.js';
import { TrainError, type Metrics, type TrainOptions } from './options.js';
import { policyOutputs, type HostValue, type RolloutBatch } from './step.js';

/** The run-wide values a training step reads and updates. */
export interface StepContext {
  readonly tf: TFModule;
  readonly run: Runner;
  readonly program: CompiledProgram;
  readonly policy: PolicyParams;
  /** The frozen reference policy (the starting weights). */
  readonly ref: PolicyParams;
  readonly vars: readonly tfc.Variable[];
  readonly state: AdamState;
  readonly params: Map<string, number | boolean>;
  readonly o: TrainOptions;
  readonly tok: ReturnType<typeof charTokenizer>;
  /** The pipeline's state variables, carried from step to step (its `update` block) and checkpointed. */
  readonly pipelineState: Record<string, HostValue>;
}

/** Mean and unbiased standard deviation (0 for fewer than two values). */
export function meanStd(xs: ArrayLike<number>): [number, number] {
  const n = xs.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i]!;
  const m = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (xs[i]! - m) ** 2;
  return [m, n > 1 ? Math.sqrt(v / (n - 1)) : 0];
}

/** Store a step's state updates; returns `state/NAME` metrics for the scalar ones. */
export function applyUpdates(pipelineState: Record<string, HostValue>, updates: Readonly<Record<string, HostValue>>): Metrics {
  const out: Metrics = {};
  for (const [name, v] of Object.entries(updates)) {
    pipelineState[name] = v;
    if (v.data.length === 1) out[`state/${name}`] = v.data[0]!;
  }
  return out;
}

/** The mean of xs over the entries where mask is not 0 (0 when there are none). */
export function meanOver(xs: ArrayLike<number>, mask: Float32Array): number {
  let sum = 0;
  let n = 0;
  mask.forEach((m, i) => {
    if (m !== 0) {
      sum += xs[i]!;
      n++;
    }
  });
  return n > 0 ? sum / n : 0;
}

/**
 * A policy's log-probs of every completion token as host values [B, G, R] (0 off the mask), from
 * the same forward the loss uses, and with `entropy` its mean per-token entropy over the mask
 * (TRL's `entropy`) from the same logits; `raw` holds the forward's unmasked outputs (for
 * RolloutBatch.before).
 */
export async function policyOnHost(
  run: Runner, p: PolicyParams, b: Pick<RolloutBatch, 'prompts' | 'completions' | 'G' | 'R' | 'lengths'>, mask: Float32Array, entropy = false,
): Promise<{ logp: Float32Array; entropy: number; raw: { logp: Float32Array; entropy: Float32Array | null } }> {
  const out = run.tf.tidy(() => policyOutputs(run, p, b, 0, b.prompts.length, entropy));
  const lp = (await out.logp.data()) as Float32Array;
  const ent = out.entropy === undefined ? null : ((await out.entropy.data()) as Float32Array);
  run.tf.dispose([out.logp, ...(out.entropy === undefined ? [] : [out.entropy])]);
  return { logp: Float32Array.from(lp, (v, i) => (mask[i] === 1 ? v : 0)), entropy: ent === null ? 0 : meanOver(ent, mask), raw: { logp: Float32Array.from(lp), entropy: ent === null ? null : Float32Array.from(ent) } };
}

/**
 * Whether a step whose loss or gradient norm is not finite is skipped (with --skip-nonfinite);
 * without it the run stops here, before any weight changes (adamStep changes nothing on a
 * non-finite norm, and a non-finite loss is never stepped with).
 */
export function skipNonfinite(o: TrainOptions, step: number, loss: number, gradNorm: number): boolean {
  if (Number.isFinite(loss) && Number.isFinite(gradNorm)) return false;
  const what = !Number.isFinite(loss) ? `the loss is ${loss}` : `the gradient norm is ${gradNorm}`;
  if (o.skipNonfinite !== true) {
    throw new TrainError(`step ${step}: ${what}; no weight was changed and the run stops (its last checkpoint is intact; --skip-nonfinite skips such steps instead)`);
  }
  o.log(`warning: step ${step}: ${what}; the step is skipped (--skip-nonfinite): no weight changed`);
  return true;
}
