/**
 * `rlp eval --profile`: where a loss spends its time. One warm-up run, then one profiled run of
 * the loss and the requested gradients (not the other bindings); every TF.js kernel is attributed to the plan step that
 * launched it (or to the backward pass), with its time and the bytes it wrote, slowest first.
 * Host steps (runtime/exec/host-steps.ts) launch none: each run of them is one `HostSteps`
 * kernel, attributed to its first step, whose bytes are the values it uploads.
 */
import { lineCol } from '../../grammar/source.js';
import type { Tensor } from '../../compiler/ops/define.js';
import type { TFModule } from '../backends/tf.js';
import { buildPlan, type PlanStep } from '../exec/plan.js';
import { compute, disposeOutputs, uploadFeeds } from './evaluate.js';
import type { ValidBatch } from './validate.js';

/** One kernel launch of a profiled run. */
export interface KernelRecord {
  /** The TF.js kernel, e.g. `Mul`, `Tile`. */
  readonly kernel: string;
  /** `%ID op` of the plan step that launched it, or `backward`. */
  readonly step: string;
  /** Where the step comes from in the source, `file:line`, when known. */
  readonly at: string;
  readonly ms: number;
  /** Bytes of the kernel's outputs (4 per element). */
  readonly bytes: number;
  readonly outputShapes: readonly (readonly number[])[];
}

/** A profiled run. */
export interface Profile {
  readonly kernels: readonly KernelRecord[];
  readonly totalMs: number;
  readonly totalBytes: number;
}

interface RawKernel {
  name: string;
  outputShapes: number[][];
  kernelTimeMs: number | { error: string };
}

interface ProfileEngine {
  state: { activeProfile: { kernels: unknown[] } };
}

/** Profile the loss (and gradients) of a validated batch on the current backend. */
export async function profileEval(tf: TFModule, backend: string, all: ValidBatch, grad: readonly string[]): Promise<Profile> {
  // What a training step computes: the loss and its gradients, not every binding.
  const vb: ValidBatch = all.plan.outputs.has('loss') ? { ...all, plan: buildPlan(all.plan.graph, [...all.plan.fed.keys()], ['loss'], { hostSmall: all.plan.hostSmall }) } : all;
  const feeds = uploadFeeds(tf, vb);
  try {
    disposeOutputs(tf, compute(tf, backend, vb, grad, feeds), feeds);
    const marks: { at: number; step: PlanStep | null }[] = [];
    const engine = tf.engine() as unknown as ProfileEngine;
    let outs: Map<string, Tensor> | null = null;
    const info = await tf.profile(() => {
      outs = compute(tf, backend, vb, grad, feeds, (step) => marks.push({ at: engine.state.activeProfile.kernels.length, step }));
      return [...outs.values()];
    });
    if (outs !== null) disposeOutputs(tf, outs, feeds);
    const kernels = (info.kernels as unknown as RawKernel[]).map((k, i): KernelRecord => {
      let owner: PlanStep | null = null;
      for (const m of marks) if (m.at <= i) owner = m.step;
      const span = owner?.node.spans[0];
      return {
        kernel: k.name,
        step: owner === null ? 'backward' : `%${owner.node.id} ${owner.node.op}`,
        at: span !== undefined ? `${span.file.path}:${lineCol(span.file, span.start).line}` : '',
        ms: typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0,
        bytes: k.outputShapes.reduce((a, s) => a + 4 * s.reduce((p, d) => p * d, 1), 0),
        outputShapes: k.outputShapes,
      };
    });
    kernels.sort((a, b) => b.ms - a.ms);
    return { kernels, totalMs: kernels.reduce((a, k) => a + k.ms, 0), totalBytes: kernels.reduce((a, k) => a + k.bytes, 0) };
  } finally {
    tf.dispose([...feeds.values()]);
  }
}

/** Render a profile as a table, slowest first (at most `limit` rows), then a total line and the backward pass's share. */
export function formatProfile(p: Profile, limit = 40): string {
  const rows = p.kernels.slice(0, limit).map((k) => [k.ms.toFixed(3), String(k.bytes), k.kernel, k.step, k.outputShapes.map((s) => `[${s.join(',')}]`).join(' '), k.at]);
  const head = ['ms', 'bytes', 'kernel', 'step', 'output', 'source'];
  const all = [head, ...rows];
  const width = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((x, c) => (c < 2 ? x.padStart(width[c]!) : x.padEnd(width[c]!))).join('  ').trimEnd();
  const more = p.kernels.length > limit ? [`... ${p.kernels.length - limit} more kernels`] : [];
  // The gradient's share, whether or not its kernels made the table (a fused body's backward is one `FusedBackward` kernel).
  const back = p.kernels.filter((k) => k.step === 'backward');
  const backMs = back.reduce((a, k) => a + k.ms, 0);
  const backBytes = back.reduce((a, k) => a + k.bytes, 0);
  const total = `total: ${p.kernels.length} kernels, ${p.totalMs.toFixed(3)} ms, ${p.totalBytes} bytes written`;
  const backward = `backward: ${back.length} kernels, ${backMs.toFixed(3)} ms, ${backBytes} bytes written`;
  return [line(head), ...rows.map(line), ...more, total, backward].join('\n') + '\n';
}
