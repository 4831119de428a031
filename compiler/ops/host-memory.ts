/**
 * Zero-copy access to the memory of tensors on the host-memory backends (cpu, wasm), for the
 * generated kernels: inputs are read where the backend keeps them (the cpu backend's typed
 * array, the wasm heap) and results are written straight into tensors the backend allocated,
 * so a fused kernel costs its loop and nothing else (no `dataSync` copy in, no upload out).
 *
 * The wasm heap may move when it grows: allocate every output first (`hostTensors`), then take
 * the views (`hostView`), and use them before anything else allocates. Elsewhere, and for a
 * tensor another backend holds, the views fall back to `dataSync` (a copy).
 */
import type { WasmHeap } from '../codegen/wasm-kernel.js';
import type { Tensor, TF } from './define.js';

/**
 * Backends whose tensors live in host memory: the generated JS kernel runs on their data
 * directly, and an optimized plan's small steps read them cheaply (runtime/exec/host-steps.ts).
 */
export const HOST_BACKENDS: readonly string[] = Object.freeze(['cpu', 'wasm']);

type Dtype = 'float32' | 'int32' | 'bool';
type View = Float32Array | Int32Array | Uint8Array;
interface TensorInfo {
  readonly dataId: object;
  readonly shape: readonly number[];
  readonly dtype: Dtype;
}
interface HostBackend {
  /** wasm: a view of a tensor's memory in the heap. */
  typedArrayFromHeap?: (t: TensorInfo) => View;
  /** wasm: allocate an (uninitialized) tensor in the heap. */
  makeOutput?: (shape: number[], dtype: Dtype) => TensorInfo;
  /** cpu: the values of each tensor. */
  data?: { get(id: object): { values?: unknown } | undefined };
}
interface EngineLike {
  backend: HostBackend;
  state: { tensorInfo: { get(id: object): { backend: unknown } | undefined } };
  makeTensorFromTensorInfo(t: TensorInfo): Tensor;
}

const TYPED: Readonly<Record<Dtype, new (n: number) => View>> = { float32: Float32Array, int32: Int32Array, bool: Uint8Array };

function engine(tf: TF): EngineLike {
  return tf.engine() as unknown as EngineLike;
}

/** The values of `t` where its backend keeps them (no copy on cpu and wasm; `dataSync` elsewhere). */
export function hostView(tf: TF, t: Tensor): ArrayLike<number> {
  const e = engine(tf);
  const be = e.backend;
  if (e.state.tensorInfo.get(t.dataId)?.backend === be) {
    if (typeof be.typedArrayFromHeap === 'function') return be.typedArrayFromHeap(t as unknown as TensorInfo);
    const v = be.data?.get(t.dataId)?.values;
    if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array) return v;
  }
  return t.dataSync() as ArrayLike<number>;
}

/** A new tensor to write a kernel's result into, and a way to reach its memory (call `view` after every allocation). */
export interface HostTensor {
  readonly tensor: Tensor;
  /** The tensor's memory, writable (take it after the last allocation, use it before the next). */
  view(): View;
}

/** Allocate a tensor on the current backend to be filled through `view()`; every element must be written. */
export function hostTensor(tf: TF, shape: readonly number[], dtype: Dtype): HostTensor {
  const e = engine(tf);
  const be = e.backend;
  if (typeof be.makeOutput === 'function' && typeof be.typedArrayFromHeap === 'function') {
    const info = be.makeOutput([...shape], dtype);
    const tensor = e.makeTensorFromTensorInfo(info);
    return { tensor, view: () => be.typedArrayFromHeap!(info) };
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new TYPED[dtype](n);
  if (be.data !== undefined) {
    // cpu: the tensor keeps this very array (tf.tensor does not copy a typed array of its dtype).
    const tensor = tf.tensor(data, [...shape], dtype);
    return { tensor, view: () => data };
  }
  throw new Error('internal: hostTensor is for the cpu and wasm backends');
}

/** The TF.js wasm backend's heap, for generated WebAssembly kernels (null on other backends). */
export function wasmHeap(tf: TF): WasmHeap | null {
  const m = (engine(tf).backend as { wasm?: { asm?: { memory?: unknown }; _malloc?: (n: number) => number; _free?: (p: number) => void } }).wasm;
  const memory = m?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || typeof m?._malloc !== 'function' || typeof m._free !== 'function') return null;
  const malloc = m._malloc;
  const free = m._free;
  return {
    memory,
    malloc: (bytes) => {
      const p = malloc(bytes);
      if (p === 0) throw new Error(`the wasm heap could not allocate ${bytes} bytes`);
      return p;
    },
    free: (p) => free(p),
  };
}

/** The byte offset of a tensor's data in `heap` (null when it is not there: another backend's tensor). */
export function heapOffset(tf: TF, t: Tensor, heap: WasmHeap): number | null {
  const v = hostView(tf, t) as View;
  return v.buffer === heap.memory.buffer ? v.byteOffset : null;
}

/**
 * Run host code that makes tensors as one TF.js kernel named `name`: the generated backward (and
 * a plan's host steps, runtime/exec/host-steps.ts) runs in JS on host memory, launching no TF.js
 * kernel of its own, so without this a profile would not show where its time goes.
 */
export function asKernel(tf: TF, name: string, inputs: readonly Tensor[], f: () => Tensor[]): Tensor[] {
  const engine = tf.engine() as unknown as { runKernelFunc(p: { forwardFunc: () => Tensor[]; inputs: Record<string, Tensor> }): Tensor | Tensor[] };
  return tf.tidy(name, () => {
    const out = engine.runKernelFunc({ forwardFunc: f, inputs: Object.fromEntries(inputs.map((t, k) => [String(k), t])) });
    return Array.isArray(out) ? out : [out];
  });
}
