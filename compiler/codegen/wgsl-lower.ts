/**
 * Running a fused node on webgpu: its generated WGSL programs (wgsl-kernel.ts) through the
 * webgpu backend's `runWebGPUProgram`, under `tf.customGrad` with the generated backward.
 *
 * The programs run as one registered TF.js kernel, `RlpFusedWgsl` (so `tf.profile` and `rlp
 * eval --profile` see each launch, and the engine tracks its outputs). The program's source is
 * its pipeline cache key: every size, constant and op it bakes in is part of it. Types only: the
 * compiler does not load TF.js or its webgpu backend; the backend object is used as it comes.
 */
import { KernelCache } from './kernel-cache.js';
import type { Tensor, TF } from '../ops/define.js';
import { compileWgslKernel, inputName, type WgslInput, type WgslKernel, type WgslProgram } from './wgsl-kernel.js';
import type { FusedBody } from './body.js';

/** The TF.js kernel name of a generated program's launch (as profiles show it). */
export const WGSL_KERNEL_NAME = 'RlpFusedWgsl';

/** The part of TF.js's WebGPUProgram that a generated program sets (tfjs-backend-webgpu 4.22). */
export interface WebGPUProgramLike {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  getUserCode: () => string;
}

interface WebGPUBackendLike {
  runWebGPUProgram(program: WebGPUProgramLike, inputs: readonly unknown[], outputDtype: string): unknown;
}

/** TF.js's program object for a generated program (a fresh one per launch: the backend writes to it); its shader key is the whole source. */
export function toWebGPUProgram(p: WgslProgram): WebGPUProgramLike {
  return {
    variableNames: p.inputs.map(inputName),
    outputShape: [p.outSize],
    shaderKey: `rlpfused|${p.code}`,
    dispatchLayout: { x: [0] },
    dispatch: [p.workgroups, 1, 1],
    workgroupSize: [p.workgroupSize, 1, 1],
    getUserCode: () => p.code,
  };
}

let registered = false;

function ensureRegistered(tf: TF): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel(WGSL_KERNEL_NAME, 'webgpu') !== undefined) return;
  tf.registerKernel({
    kernelName: WGSL_KERNEL_NAME,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const p = (attrs as unknown as { program: WgslProgram }).program;
      const ins = p.inputs.map((_, i) => inputs[`x${i}`]);
      return (backend as unknown as WebGPUBackendLike).runWebGPUProgram(toWebGPUProgram(p), ins, p.outDtype) as ReturnType<Parameters<TF['registerKernel']>[0]['kernelFunc']>;
    },
  });
}

/** Launch one program on these inputs (in its binding order): its flat output. */
export function launchWgsl(tf: TF, p: WgslProgram, inputs: readonly Tensor[]): Tensor {
  ensureRegistered(tf);
  // Flat: the programs index buffers themselves, and TF.js's shader prelude handles rank <= 6 only.
  const named = Object.fromEntries(inputs.map((t, i) => [`x${i}`, t.rank === 1 ? t : tf.reshape(t, [-1])]));
  return tf.engine().runKernel(WGSL_KERNEL_NAME, named, { program: p } as unknown as Record<string, never>) as Tensor;
}

const kernels = new KernelCache<WgslKernel>();

/** The programs of a body at these sizes (cached: the key holds the body, every size and which gradients). */
export function wgslKernelFor(bodyText: string, body: FusedBody, sizes: ReadonlyMap<string, number>, needsGrad?: readonly boolean[]): WgslKernel {
  return kernels.get(bodyText, sizes, needsGrad, () => compileWgslKernel(body, sizes, needsGrad));
}

/**
 * The fused node's value on webgpu, with its gradient: `xs` are its leaves, `outShape` and
 * `outDtype` its result's. The caller checked that every op of the body has a WGSL template.
 */
export function lowerFusedWgsl(tf: TF, xs: readonly Tensor[], kernel: WgslKernel, outShape: readonly number[], outDtype: 'float32' | 'int32' | 'bool'): Tensor {
  ensureRegistered(tf);
  const n = xs.length;
  const f = tf.customGrad((...args) => {
    const ins = args.slice(0, n) as Tensor[];
    const packs = new Map<string, Tensor>();
    /** A program's input: a leaf, the leaves it packs (flat f32, concatenated once per pass), an accumulator, dy. */
    const inputOf = (i: WgslInput, accs: readonly Tensor[], dy: Tensor | null, leaves: readonly Tensor[]): Tensor => {
      if (i.kind === 'leaf') return leaves[i.leaf]!;
      if (i.kind === 'acc') return accs[i.level - 1]!;
      if (i.kind === 'dy') return dy!;
      const key = i.leaves.join(',');
      let p = packs.get(key);
      if (p === undefined) {
        p = tf.concat(i.leaves.map((l) => tf.reshape(leaves[l]!.dtype === 'float32' ? leaves[l]! : tf.cast(leaves[l]!, 'float32'), [-1])));
        packs.set(key, p);
      }
      return p;
    };
    const save = args[n] as unknown as (ts: Tensor[]) => void;
    const accs: Tensor[] = [];
    let value: Tensor;
    if (kernel.accSizes.length === 0) {
      const p = kernel.forward[0]!;
      value = tf.reshape(launchWgsl(tf, p, p.inputs.map((i) => inputOf(i, accs, null, ins))), [...outShape]);
    } else {
      for (const p of kernel.forward) accs.push(launchWgsl(tf, p, p.inputs.map((i) => inputOf(i, accs, null, ins))));
      const m = kernel.accSizes[kernel.accSizes.length - 1]!;
      const r = tf.reshape(tf.slice(accs[accs.length - 1]!, [0], [m]), [...outShape]);
      value = outDtype === 'float32' ? r : tf.cast(r, outDtype);
    }
    // The leaves too: the executor may dispose an intermediate leaf before the backward runs.
    save([...accs, ...ins]);
    return {
      value,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const g = dy as Tensor;
        const dyF = g.dtype === 'float32' ? g : tf.cast(g, 'float32');
        packs.clear();
        const leaves = saved.slice(accs.length);
        return leaves.map((t, l) => {
          const progs = kernel.backward[l]!;
          if (progs.length === 0) return tf.zeros(t.shape);
          const parts = progs.map((p) => launchWgsl(tf, p, p.inputs.map((i) => inputOf(i, saved, dyF, leaves))));
          return tf.reshape(parts.length === 1 ? parts[0]! : tf.addN(parts), t.shape);
        });
      },
    };
  });
  return f(...xs);
}
