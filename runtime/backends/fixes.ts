/**
 * Workarounds for TF.js 4.22 defects, each reproduced on our machines:
 * - wasm has no `UnsortedSegmentSum`, so the gradient of `gather` throws; cpu has one that is
 *   O(segments x indices). We register a linear-time scatter-add on both.
 * - wasm matmul with a transposed operand is 9-30x slower than plain, and every matmul gradient
 *   uses one; we override the BatchMatMul gradient to transpose explicitly, then multiply plainly.
 * - wasm `oneHot(..., 'float32')` returns garbage: `oneHotF32` builds int32 and casts.
 * - webgpu `gather` loses index precision past 2^24: `gatherFlat` gathers row by row there.
 * - wasm `cast(x, 'bool')` truncates to a byte instead of testing x != 0 (-0.5 -> false,
 *   -2 -> 254): `castTo` compares with zero instead.
 * - `logSigmoid`'s gradient reads a disposed tensor when its input is not a leaf: the
 *   `log_sigmoid` op lowers to -softplus(-x) instead (see compiler/ops/math.ts).
 * - the Minimum/Maximum gradients do not reduce broadcast axes (a broadcast operand gets a
 *   gradient of the output's shape, and autodiff throws): we register gradients that sum the
 *   broadcast axes away, as Add's and Mul's do, so nothing is broadcast before the call.
 * - wasm `Identity` copies the whole tensor (cpu and webgl share the memory), and autodiff
 *   clones every tensor a gradient saves: a custom gradient saving its [B,G,T] inputs paid a
 *   copy of each per step. We register an Identity that shares the memory, as cpu's does.
 * - webgpu `cast` of bool or int32 to float32 relabels the int-encoded buffer as float32 instead
 *   of converting it. TF.js's own programs read a buffer by its stored type, but several (Transpose
 *   among them) then store an `i32` into an `f32` output: WGSL rejects the shader, and WebGPU drops
 *   the whole command buffer it was batched in, so every value computed with it reads back as 0
 *   (clip_cov's rank_desc transposes `float(cand)`). We register a Cast that converts into a real
 *   float32 buffer there.
 */
import type { TFModule } from './tf.js';
import type * as tfc from '@tensorflow/tfjs-core';

type Tensor = tfc.Tensor;

const installed = new Set<string>();

/** Install the fixes relevant to `backend` (idempotent). */
export function installFixes(tf: TFModule, backend: string): void {
  if (!installed.has('grad:MinMax')) {
    installMinMaxGradients(tf);
    installed.add('grad:MinMax');
  }
  if (!installed.has('grad:BatchMatMul')) {
    installMatMulGradient(tf);
    installed.add('grad:BatchMatMul');
  }
  if (backend === 'wasm' && !installed.has('identity:wasm')) {
    installSharedIdentity(tf);
    installed.add('identity:wasm');
  }
  if (backend === 'webgpu' && !installed.has('cast:webgpu')) {
    installConvertingCast(tf);
    installed.add('cast:webgpu');
  }
  if ((backend === 'wasm' || backend === 'cpu') && !installed.has(`segsum:${backend}`)) {
    installScatterAdd(tf, backend);
    installed.add(`segsum:${backend}`);
  }
}

/** A wasm Identity that shares its input's memory (counted, as Reshape's) instead of copying it. */
function installSharedIdentity(tf: TFModule): void {
  const stock = tf.getKernel('Identity', 'wasm');
  if (stock === undefined) return;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    ...stock,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tfc.TensorInfo }).x;
      if (x.dtype === 'string') return stock.kernelFunc(args);
      (args.backend as unknown as { incRef(id: tfc.DataId): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}

/** The part of tfjs-backend-webgpu 4.22's backend that the converting Cast uses. */
interface WebGPUBackendLike {
  shouldExecuteOnCPU(inputs: tfc.TensorInfo[]): boolean;
  tensorMap: { get(id: tfc.DataId): { values: tfc.TypedArray | null } };
  makeTensorInfo(shape: number[], dtype: tfc.DataType, values?: tfc.TypedArray): tfc.TensorInfo;
  runWebGPUProgram(program: object, inputs: tfc.TensorInfo[], outputDtype: tfc.DataType): tfc.TensorInfo;
}

const CAST_WORKGROUP = 64;

/**
 * A webgpu Cast that converts bool and int32 to float32 into a float32 buffer (one thread per
 * element; on the host when the backend keeps the values there); every other cast is the stock one.
 */
function installConvertingCast(tf: TFModule): void {
  const stock = tf.getKernel('Cast', 'webgpu');
  if (stock === undefined) return;
  tf.unregisterKernel('Cast', 'webgpu');
  tf.registerKernel({
    ...stock,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tfc.TensorInfo }).x;
      const { dtype } = args.attrs as unknown as { dtype: tfc.DataType };
      if (dtype !== 'float32' || (x.dtype !== 'bool' && x.dtype !== 'int32')) return stock.kernelFunc(args);
      const b = args.backend as unknown as WebGPUBackendLike;
      const shape = [...x.shape];
      if (b.shouldExecuteOnCPU([x])) return b.makeTensorInfo(shape, 'float32', Float32Array.from(b.tensorMap.get(x.dataId).values!));
      // Flat in and out (the program indexes flat; TF.js's shader prelude handles rank <= 6 only).
      const size = shape.reduce((a, d) => a * d, 1);
      const program = {
        variableNames: ['A'],
        outputShape: [size],
        shaderKey: 'rlp_cast_f32',
        size: true,
        dispatchLayout: { x: [0] },
        dispatch: [Math.ceil(size / CAST_WORKGROUP), 1, 1],
        workgroupSize: [CAST_WORKGROUP, 1, 1],
        getUserCode: () => 'fn main(index: i32) {\n  if (index < uniforms.size) { setOutputAtIndex(index, f32(A[index])); }\n}',
      };
      const out = b.runWebGPUProgram(program, [{ dataId: x.dataId, shape: [size], dtype: x.dtype }], 'float32');
      return { dataId: out.dataId, shape, dtype: 'float32' };
    },
  });
}

/** A linear-time UnsortedSegmentSum (scatter-add), computed on the host. */
function installScatterAdd(tf: TFModule, backendName: string): void {
  const existing = tf.getKernel('UnsortedSegmentSum', backendName);
  if (existing !== undefined) tf.unregisterKernel('UnsortedSegmentSum', backendName);
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tfc.TensorInfo; segmentIds: tfc.TensorInfo };
      const numSegments = Number((attrs as { numSegments: number }).numSegments);
      const b = backend as unknown as {
        readSync(id: tfc.DataId): tfc.TypedArray;
        makeTensorInfo?(shape: number[], dtype: tfc.DataType, values: tfc.TypedArray): tfc.TensorInfo;
        makeOutput?(shape: number[], dtype: tfc.DataType): tfc.TensorInfo;
        typedArrayFromHeap?(t: tfc.TensorInfo): tfc.TypedArray;
      };
      const xs = b.readSync(x.dataId);
      const ids = b.readSync(segmentIds.dataId);
      const inner = x.shape.slice(segmentIds.shape.length).reduce((p, d) => p * d, 1);
      const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
      const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
      for (let i = 0; i < ids.length; i++) {
        const seg = ids[i]!;
        if (seg < 0 || seg >= numSegments) continue;
        const src = i * inner;
        const dst = seg * inner;
        for (let j = 0; j < inner; j++) out[dst + j]! += xs[src + j]!;
      }
      if (b.makeTensorInfo !== undefined) return b.makeTensorInfo(outShape, x.dtype, out);
      const info = b.makeOutput!(outShape, x.dtype);
      b.typedArrayFromHeap!(info).set(out);
      return info;
    },
  });
}

/** Sum a gradient of the broadcast output's shape back to an operand's shape. */
function unbroadcast(tf: TFModule, g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const axes = tf.broadcast_util.getReductionAxes([...shape], [...g.shape]);
  return tf.reshape(axes.length > 0 ? tf.sum(g, axes) : g, [...shape]);
}

/**
 * Minimum and Maximum gradients that reduce broadcast axes. Ties go to the first operand, as in
 * TF.js's own (and in the ops' declared `grad`).
 */
function installMinMaxGradients(tf: TFModule): void {
  for (const kernelName of ['Minimum', 'Maximum'] as const) {
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, saved) => {
        const [a, b] = saved as [Tensor, Tensor];
        const g = dy as Tensor;
        const first = (): Tensor => (kernelName === 'Maximum' ? tf.greaterEqual(a, b) : tf.lessEqual(a, b));
        return {
          a: () => unbroadcast(tf, tf.mul(g, tf.cast(first(), 'float32')), a.shape),
          b: () => unbroadcast(tf, tf.mul(g, tf.cast(tf.logicalNot(first()), 'float32')), b.shape),
        };
      },
    });
  }
}

/** The BatchMatMul gradient with explicit transposes (plain matmuls only). */
function installMatMulGradient(tf: TFModule): void {
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [Tensor, Tensor];
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      const g = dy as Tensor;
      const t = (x: Tensor): Tensor => swapLast2(tf, x);
      const mm = (x: Tensor, y: Tensor): Tensor => tf.matMul(x, y);
      if (!transposeA && !transposeB) return { a: () => mm(g, t(b)), b: () => mm(t(a), g) };
      if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(t(g), a) };
      if (transposeA && !transposeB) return { a: () => mm(b, t(g)), b: () => mm(a, g) };
      return { a: () => mm(t(b), t(g)), b: () => mm(t(g), t(a)) };
    },
  });
}

/** Cast to a dtype; to bool by `x != 0` (wasm's bool cast is wrong for negatives and fractions). */
export function castTo(tf: TFModule, x: Tensor, dtype: 'float32' | 'int32' | 'bool'): Tensor {
  if (x.dtype === dtype) return x;
  return dtype === 'bool' ? tf.notEqual(x, tf.scalar(0, x.dtype)) : tf.cast(x, dtype);
}

function swapLast2(tf: TFModule, x: Tensor): Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return tf.transpose(x, perm);
}

/**
 * `matMul` with transposes done explicitly, then a plain multiply: on wasm a transposed operand
 * makes TF.js's kernel 10-20x slower, an explicit transpose costs little.
 */
export function matMul(tf: TFModule, a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  return tf.matMul(transposeA ? swapLast2(tf, a) : a, transposeB ? swapLast2(tf, b) : b);
}

/** One-hot as float32, built as int32 and cast (wasm's float32 oneHot is broken). */
export function oneHotF32(tf: TFModule, indices: Tensor, depth: number): Tensor {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.cast(indices, 'int32') as tfc.Tensor1D, depth, 1, 0, 'int32'), 'float32'));
}

/** Largest flat index that webgpu's gather resolves exactly (float32 index arithmetic). */
export const WEBGPU_EXACT_INDEX = 2 ** 24;

/**
 * Gather rows `indices` (host int32, e.g. token ids) from the first axis of `x`. On webgpu, when
 * x holds more elements than float32 can address exactly, gather in blocks of rows with rebased
 * indices, so every offset the kernel computes stays below the limit. Indices come from the host
 * because webgpu cannot read a tensor back synchronously.
 */
export function gatherFlat(tf: TFModule, x: Tensor, indices: Int32Array, backend: string, limit = WEBGPU_EXACT_INDEX): Tensor {
  const rows = x.shape[0]!;
  const inner = x.shape.slice(1).reduce((a, d) => a * d, 1);
  if (backend !== 'webgpu' || rows * inner <= limit) return tf.tidy(() => tf.gather(x, tf.tensor1d(indices, 'int32')));
  const blockRows = Math.max(1, Math.floor(limit / inner));
  return tf.tidy(() => {
    const idx = indices;
    const parts: Tensor[] = [];
    const order: number[] = [];
    for (let start = 0; start < rows; start += blockRows) {
      const end = Math.min(rows, start + blockRows);
      const pos: number[] = [];
      const local: number[] = [];
      idx.forEach((v, i) => {
        if (v >= start && v < end) {
          pos.push(i);
          local.push(v - start);
        }
      });
      if (pos.length === 0) continue;
      const block = tf.slice(x, [start], [end - start]);
      parts.push(tf.gather(block, tf.tensor1d(local, 'int32')));
      order.push(...pos);
    }
    const joined = tf.concat(parts, 0);
    const inverse = new Int32Array(order.length);
    order.forEach((p, i) => (inverse[p] = i));
    return tf.gather(joined, tf.tensor1d(inverse, 'int32'));
  });
}
