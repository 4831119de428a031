/**
 * The fused token log-prob kernel on webgpu: generated WGSL run through the backend's
 * `runWebGPUProgram`, as one registered TF.js kernel (`RlpTokenLogProbWgsl`, so `tf.profile` sees
 * each launch and the engine tracks its outputs).
 *
 * Forward: one workgroup per row of the [N, V] logits. Each thread takes the max of its strided
 * share of the row, the workgroup reduces the maxima in workgroup memory; then each thread sums
 * e^(z - max) over its share (every term <= 1, no rescaling) and the workgroup adds the partial
 * sums as a tree (pairwise: f32 error grows with log V, not V). Thread 0 writes the row's
 * z[id] - lse and its lse: the output is [2N], values then log-sum-exps (the backward reads the
 * second half).
 *
 * Backward: one thread per logit, dz[n, v] = g[n] * ((v == id[n] ? 1 : 0) - e^(z[n, v] - lse[n])),
 * in one pass. Neither pass materializes [N, V] log-probs or a one-hot.
 *
 * The token entropy (`tokenEntropyWgsl`) has the same two shapes: the forward reduces, besides the
 * max, s = sum e^(z - max) and t = sum e^(z - max) (z - max) in one sweep and writes H = log s - t / s
 * and the lse; the backward is dz = -g p (log p + H) with p = e^(z - lse), 0 where p is 0 (a
 * -Infinity logit contributes nothing, the limit of p log p).
 *
 * Every size is baked into the source, and the source is the pipeline cache key. Dispatches above
 * the device's per-dimension limit are reshaped by TF.js (2-D or 3-D); the programs index through
 * TF.js's global index, which accounts for that.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { WebGPUProgramLike } from '../../compiler/codegen/wgsl-lower.js';
import type { TFModule } from '../backends/tf.js';

type Tensor = tfc.Tensor;

/** The TF.js kernel name of a launch (as profiles show it). */
export const TOKEN_LOGPROB_KERNEL = 'RlpTokenLogProbWgsl';

/** The part of TF.js's WebGPUProgram that these programs set: the generated fused kernels' own. */
export type TokenLogProbProgram = WebGPUProgramLike;

interface WebGPUBackendLike {
  runWebGPUProgram(program: TokenLogProbProgram, inputs: readonly tfc.TensorInfo[], outputDtype: tfc.DataType): tfc.TensorInfo;
}

/** Threads per workgroup of the backward (one thread per logit). */
const MAP_WORKGROUP = 256;

/** Threads per row of the forward: enough to keep a long row's reads wide, few for a short one. */
export function forwardWorkgroup(V: number): number {
  return V >= 2048 ? 256 : V >= 256 ? 128 : 64;
}

/** Reference every binding (TF.js binds them all; an unread one would drop out of the layout). */
const touch = (names: readonly string[]): string => ['_ = uniforms.NAN;', ...names.map((x) => `_ = arrayLength(&${x});`)].join('\n  ');

/**
 * The start of a forward: thread t of row n's workgroup (o its offset in Z) and the row's max mx,
 * reduced in rlp_red (free again when this returns). Out-of-range workgroups (a reshaped
 * dispatch) compute row N-1 and write nothing: barriers stay uniform.
 */
function rowMax(N: number, V: number, WG: number): string {
  return `let ninf = -uniforms.INFINITY;
  let t = index % ${WG};
  let row = index / ${WG};
  let n = min(row, ${N - 1});
  let o = n * ${V};
  var m = ninf;
  for (var j: i32 = t; j < ${V}; j = j + ${WG}) { m = max(m, Z[o + j]); }
  rlp_red[t] = m;
  workgroupBarrier();
  for (var h: i32 = ${WG / 2}; h > 0; h = h / 2) {
    if (t < h) { rlp_red[t] = max(rlp_red[t], rlp_red[t + h]); }
    workgroupBarrier();
  }
  let mx = rlp_red[0];
  workgroupBarrier();`;
}

/** The forward's source: inputs Z (f32, [N V] flat) and I (i32, [N]); output [2N]. */
export function forwardSource(N: number, V: number, WG: number): string {
  return `
var<workgroup> rlp_red: array<f32, ${WG}>;
fn main(index: i32) {
  ${touch(['Z', 'I'])}
  ${rowMax(N, V, WG)}
  var s: f32 = 0.0;
  // A row whose max is -inf has no mass: its sum stays 0 (lse -inf) rather than e^(-inf + inf).
  if (mx > ninf) {
    for (var j: i32 = t; j < ${V}; j = j + ${WG}) { s = s + exp(Z[o + j] - mx); }
  }
  rlp_red[t] = s;
  workgroupBarrier();
  for (var h: i32 = ${WG / 2}; h > 0; h = h / 2) {
    if (t < h) { rlp_red[t] = rlp_red[t] + rlp_red[t + h]; }
    workgroupBarrier();
  }
  if (t == 0 && row < ${N}) {
    let lse = mx + log(rlp_red[0]);
    result[n] = Z[o + I[n]] - lse;
    result[${N} + n] = lse;
  }
}`;
}

/** The entropy forward's source: input Z (f32, [N V] flat); output [2N], entropies then log-sum-exps. */
export function entropyForwardSource(N: number, V: number, WG: number): string {
  return `
var<workgroup> rlp_red: array<f32, ${WG}>;
var<workgroup> rlp_red2: array<f32, ${WG}>;
fn main(index: i32) {
  ${touch(['Z'])}
  ${rowMax(N, V, WG)}
  var s: f32 = 0.0;
  var u: f32 = 0.0;
  if (mx > ninf) {
    for (var j: i32 = t; j < ${V}; j = j + ${WG}) {
      let d = Z[o + j] - mx;
      let e = exp(d);
      s = s + e;
      // e is 0 for a -Infinity logit: 0, not 0 * -inf.
      u = u + select(e * d, 0.0, e == 0.0);
    }
  }
  rlp_red[t] = s;
  rlp_red2[t] = u;
  workgroupBarrier();
  for (var h: i32 = ${WG / 2}; h > 0; h = h / 2) {
    if (t < h) {
      rlp_red[t] = rlp_red[t] + rlp_red[t + h];
      rlp_red2[t] = rlp_red2[t] + rlp_red2[t + h];
    }
    workgroupBarrier();
  }
  if (t == 0 && row < ${N}) {
    let ls = log(rlp_red[0]);
    result[n] = ls - rlp_red2[0] / rlp_red[0];
    result[${N} + n] = mx + ls;
  }
}`;
}

/** The entropy backward's source: inputs Z (f32, [N V]), S (the forward's [2N]), G (f32, [N]); output [N V]. */
export function entropyBackwardSource(N: number, V: number): string {
  return `
fn main(index: i32) {
  ${touch(['Z', 'S', 'G'])}
  if (index >= ${N * V}) { return; }
  let n = index / ${V};
  let lp = Z[index] - S[${N} + n];
  let p = exp(lp);
  result[index] = select(-G[n] * p * (lp + S[n]), 0.0, p == 0.0);
}`;
}

/** The backward's source: inputs Z (f32, [N V]), I (i32, [N]), S (the forward's [2N]), G (f32, [N]); output [N V]. */
export function backwardSource(N: number, V: number): string {
  return `
fn main(index: i32) {
  ${touch(['Z', 'I', 'S', 'G'])}
  if (index >= ${N * V}) { return; }
  let n = index / ${V};
  let v = index - n * ${V};
  let p = exp(Z[index] - S[${N} + n]);
  result[index] = G[n] * (select(0.0, 1.0, v == I[n]) - p);
}`;
}

/** TF.js's program object (a fresh one per launch: the backend writes to it); the source is its key. */
function program(code: string, variableNames: string[], outSize: number, workgroupSize: number, workgroups: number): TokenLogProbProgram {
  return {
    variableNames,
    outputShape: [outSize],
    shaderKey: `rlptlp|${code}`,
    dispatchLayout: { x: [0] },
    dispatch: [workgroups, 1, 1],
    workgroupSize: [workgroupSize, 1, 1],
    getUserCode: () => code,
  };
}

/** What a launch carries to the registered kernel: how to build its program (a fresh object per launch). */
interface Launch {
  make: () => TokenLogProbProgram;
}

let registered = false;

function ensureRegistered(tf: TFModule): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel(TOKEN_LOGPROB_KERNEL, 'webgpu') !== undefined) return;
  tf.registerKernel({
    kernelName: TOKEN_LOGPROB_KERNEL,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const p = (attrs as unknown as Launch).make();
      const ins = p.variableNames.map((x) => (inputs as Record<string, tfc.TensorInfo>)[x]!);
      return (backend as unknown as WebGPUBackendLike).runWebGPUProgram(p, ins, 'float32');
    },
  });
}

/** Launch a program on named flat inputs: its flat float32 output. */
function launch(tf: TFModule, make: () => TokenLogProbProgram, inputs: Record<string, Tensor>): Tensor {
  ensureRegistered(tf);
  return tf.engine().runKernel(TOKEN_LOGPROB_KERNEL, inputs as unknown as tfc.NamedTensorMap, { make } as unknown as tfc.NamedAttrMap) as Tensor;
}

/**
 * A per-row function of the logits [..., V] -> [...] on webgpu, under `tf.customGrad`: the forward
 * program reads Z (the flat logits) and the `extra` inputs (made inside the gradient scope, as the
 * logits' companions), and writes [2N] (the values, then what the backward needs per row); the
 * backward program reads Z, the extra inputs, S (that output) and G (the values' gradient) and
 * writes the logits' gradient.
 */
function rowKernelWgsl(tf: TFModule, logits: Tensor, N: number, fwd: { code: string; workgroup: number }, bwd: string, makeExtra: () => Record<string, Tensor> = () => ({})): Tensor {
  const V = logits.shape[logits.shape.length - 1]!;
  const lead = logits.shape.slice(0, -1);
  const f = tf.customGrad((...args) => {
    const x = args[0] as Tensor;
    const save = args[1] as unknown as (ts: Tensor[]) => void;
    // Flat: the programs index the buffers themselves (TF.js's shader prelude handles rank <= 6 only).
    const z = tf.reshape(x, [N * V]);
    const extra = makeExtra();
    const extraNames = Object.keys(extra);
    const S = launch(tf, () => program(fwd.code, ['Z', ...extraNames], 2 * N, fwd.workgroup, N), { Z: z, ...extra });
    save([z, S, ...extraNames.map((k) => extra[k]!)]);
    return {
      value: tf.reshape(tf.slice(S, [0], [N]), lead),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [zs, Ss, ...rest] = saved as [Tensor, Tensor, ...Tensor[]];
        const g = tf.reshape(dy as Tensor, [N]);
        const G = g.dtype === 'float32' ? g : tf.cast(g, 'float32');
        const ins: Record<string, Tensor> = { Z: zs, S: Ss, G };
        extraNames.forEach((k, j) => (ins[k] = rest[j]!));
        const dz = launch(tf, () => program(bwd, ['Z', ...extraNames, 'S', 'G'], N * V, MAP_WORKGROUP, Math.ceil((N * V) / MAP_WORKGROUP)), ins);
        return tf.reshape(dz, logits.shape);
      },
    };
  });
  return f(logits);
}

/**
 * log softmax(logits)[..., ids] on webgpu with the fused forward and backward (under
 * `tf.customGrad`): logits [..., V], ids one per leading element (row-major).
 */
export function tokenLogProbsWgsl(tf: TFModule, logits: Tensor, ids: Int32Array): Tensor {
  const V = logits.shape[logits.shape.length - 1]!;
  const N = ids.length;
  const WG = forwardWorkgroup(V);
  return rowKernelWgsl(tf, logits, N, { code: forwardSource(N, V, WG), workgroup: WG }, backwardSource(N, V), () => ({ I: tf.tensor1d(ids, 'int32') }));
}

/** The entropy of each row's softmax, -sum_v p_v log p_v, on webgpu with the fused forward and backward. */
export function tokenEntropyWgsl(tf: TFModule, logits: Tensor): Tensor {
  const V = logits.shape[logits.shape.length - 1]!;
  const N = logits.size / V;
  const WG = forwardWorkgroup(V);
  return rowKernelWgsl(tf, logits, N, { code: entropyForwardSource(N, V, WG), workgroup: WG }, entropyBackwardSource(N, V));
}
