/**
 * `fused`: a region of elementwise ops with its trailing reductions, made by the `fuse` pass.
 * Its body (attr `body`, see compiler/codegen/body.ts) is typed by the ops it holds, evaluated
 * by a generated kernel on the host-memory backends (cpu, wasm; ./host-memory.ts) and by
 * generated WGSL programs on webgpu (compiler/codegen/wgsl-lower.ts), each under a custom
 * gradient derived from the same body, and op by op through the ops' own lowerings elsewhere.
 */
import { KernelCache } from '../codegen/kernel-cache.js';
import { bodyShape, FUSED_BACKWARD, parseBody, TF_DTYPE, type FusedBody } from '../codegen/body.js';
import { bodySizes, compileJsKernel, type ForwardState, type JsKernel } from '../codegen/js-kernel.js';
import { asKernel, heapOffset, HOST_BACKENDS, hostTensor, hostView, wasmHeap } from './host-memory.js';
import { compileWasmKernel, type WasmKernel } from '../codegen/wasm-kernel.js';
import { wgslUnsupported } from '../codegen/wgsl-kernel.js';
import { lowerFusedWgsl, wgslKernelFor } from '../codegen/wgsl-lower.js';
import { sameType, type TensorType, type Type } from '../types.js';
import { opByName } from './index.js';
import { defineOp, type LowerCtx, type OpDef, type RefArray, type Tensor, type TF } from './define.js';

function opOf(name: string): OpDef {
  const op = opByName(name);
  if (op === undefined) throw new Error(`internal: no op ${name} in a fused body`);
  return op;
}

const kernels = new KernelCache<JsKernel>();
/** The WebAssembly kernels of the wasm backend, beside the JS ones (null: the body is not covered there). */
const wasmKernels = new KernelCache<WasmKernel | null>();

/** The compiled kernel of a body at these sizes (cached: the key holds the body and every size). */
export function kernelFor(bodyText: string, body: FusedBody, sizes: ReadonlyMap<string, number>, needsGrad?: readonly boolean[]): JsKernel {
  return kernels.get(bodyText, sizes, needsGrad, () => compileJsKernel(body, sizes, needsGrad));
}

function lowerFused(tf: TF, xs: readonly Tensor[], attrs: Readonly<Record<string, unknown>>, ctx: LowerCtx): Tensor {
  const text = String(attrs['body']);
  const body = parseBody(text);
  if (ctx.backend === 'webgpu' && wgslUnsupported(body) === null) {
    const sizes = bodySizes(body, xs.map((x) => x.shape), ctx.outShape, ctx.sizes);
    return lowerFusedWgsl(tf, xs, wgslKernelFor(text, body, sizes, ctx.needsGrad), ctx.outShape, TF_DTYPE[body.nodes[body.nodes.length - 1]!.type.dtype]);
  }
  if (!HOST_BACKENDS.includes(ctx.backend)) return lowerOpByOp(tf, xs, body, ctx);
  const sizes = bodySizes(body, xs.map((x) => x.shape), ctx.outShape, ctx.sizes);
  const kernel = kernelFor(text, body, sizes, ctx.needsGrad);
  const root = body.nodes[body.nodes.length - 1]!.type;
  // Gradients no one asked for: zeros made where they live (tf.zeros fills a JS array, then uploads it).
  const zeros = (shape: readonly number[]): Tensor => {
    const z = hostTensor(tf, shape, 'float32');
    z.view().fill(0);
    return z.tensor;
  };
  const store = (data: ArrayLike<number>, shape: readonly number[]): Tensor => tf.tensor(Float32Array.from(data), [...shape], 'float32');
  // On the wasm backend, the generated WebAssembly kernel where it covers the body (compiler/codegen/wasm-kernel.ts).
  const heap = ctx.backend === 'wasm' ? wasmHeap(tf) : null;
  const wk = heap === null ? null : wasmKernels.get(text, sizes, ctx.needsGrad, () => compileWasmKernel(body, sizes, kernel, ctx.needsGrad));
  const offsets = (ts: readonly Tensor[]): number[] | null => {
    const ps = ts.map((t) => heapOffset(tf, t, heap!));
    return ps.every((p) => p !== null) ? (ps as number[]) : null;
  };
  // Allocate first, then take the views (the wasm heap may move on allocation).
  const run = (ins: readonly Tensor[], saveGrad: boolean): { value: Tensor; st: ForwardState } => {
    const value = hostTensor(tf, ctx.outShape, TF_DTYPE[root.dtype]);
    const at = wk === null ? null : offsets([...ins, value.tensor]);
    if (wk !== null && at !== null) {
      const views = () => ({ leaves: ins.map((t) => hostView(tf, t)), out: value.view() });
      return { value: value.tensor, st: wk.forward(heap!, at.slice(0, ins.length), at[ins.length]!, views, saveGrad) };
    }
    return { value: value.tensor, st: kernel.forward(ins.map((t) => hostView(tf, t)), value.view(), saveGrad) };
  };
  // The inputs a gradient reaches; the others (masks, advantages, reference log-probs...) are
  // read from the closure and get no gradient tensor at all (zeros the tape would throw away).
  const wanted = xs.map((_, l) => l).filter((l) => ctx.needsGrad[l] === true);
  if (wanted.length === 0) return run(xs, false).value;
  const f = tf.customGrad((...args) => {
    const ins = xs.map((x, l) => (wanted.includes(l) ? (args[wanted.indexOf(l)] as Tensor) : x));
    // The backward reads the inputs where they live: keep them all (the forward's scope disposes
    // its tensors; a saved tensor is an Identity that shares memory).
    (args[wanted.length] as unknown as (ts: Tensor[]) => void)(ins);
    // The forward pass does the gradient's work too where it can (`savesGrad`).
    const { value, st } = run(ins, true);
    return {
      value,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => asKernel(tf, FUSED_BACKWARD, [...saved, dy as Tensor], () => {
        const outs = saved.map((t, l) => (kernel.direct[l] ? hostTensor(tf, t.shape, 'float32') : null));
        if (wk !== null) {
          const at = offsets([...saved, dy as Tensor]);
          const into = outs.map((o) => (o === null ? -1 : heapOffset(tf, o.tensor, heap!) ?? -1));
          const views = () => ({ leaves: saved.map((t) => hostView(tf, t)), dy: hostView(tf, dy as Tensor) });
          if (at !== null && wanted.every((l) => into[l] !== -1) && wk.backward(heap!, at.slice(0, saved.length), st, at[saved.length]!, into, views)) {
            return wanted.map((l) => outs[l]!.tensor);
          }
        }
        const g = kernel.backward(saved.map((t) => hostView(tf, t)), st, hostView(tf, dy as Tensor), outs.map((o) => o?.view() ?? null));
        return wanted.map((l) => outs[l]?.tensor ?? (g[l] === null ? zeros(saved[l]!.shape) : store(g[l]!, saved[l]!.shape)));
      }),
    };
  });
  return f(...wanted.map((l) => xs[l]!));
}

/** Elsewhere (webgpu...): the body op by op, each through its own lowering, aligned and cast as the executor does. */
function lowerOpByOp(tf: TF, xs: readonly Tensor[], body: FusedBody, ctx: LowerCtx): Tensor {
  const sizes = bodySizes(body, xs.map((x) => x.shape), ctx.outShape, ctx.sizes);
  const vals: Tensor[] = [];
  const valueOf = (a: number): Tensor => (a < 0 ? xs[-a - 1]! : vals[a]!);
  const typeOf = (a: number): TensorType => (a < 0 ? body.leaves[-a - 1]! : body.nodes[a]!.type);
  const cast = (x: Tensor, dtype: 'float32' | 'int32' | 'bool'): Tensor =>
    x.dtype === dtype ? x : dtype === 'bool' ? tf.notEqual(x, tf.scalar(0, x.dtype)) : tf.cast(x, dtype);
  const align = (x: Tensor, from: readonly string[], to: readonly string[]): Tensor =>
    from.length === to.length ? x : tf.reshape(x, to.map((d) => (from.includes(d) ? x.shape[from.indexOf(d)]! : 1)));
  for (const n of body.nodes) {
    const op = opOf(n.op);
    const reduction = op.traits.includes('reduction');
    const raw = n.args.map(valueOf);
    const ins = raw.map((x, k) => {
      const t = typeOf(n.args[k]!);
      if (reduction) {
        if (k === 0) return cast(x, TF_DTYPE[n.type.dtype]);
        return tf.broadcastTo(align(cast(x, 'float32'), t.dims, typeOf(n.args[0]!).dims), raw[0]!.shape);
      }
      let want: 'float32' | 'int32' | 'bool' | null = null;
      if (op.inputs[k]?.kind === 'bool') want = 'bool';
      else if (op.traits.includes('elementwise')) want = n.type.dtype === 'bool' ? (raw.every((r) => r.dtype === 'int32') ? 'int32' : 'float32') : TF_DTYPE[n.type.dtype];
      return align(want === null ? x : cast(x, want), t.dims, n.type.dims);
    });
    const over = (n.attrs['over'] as readonly string[] | undefined) ?? [];
    const x0Dims = typeOf(n.args[0]!).dims;
    const out = op.lower!(tf, ins, n.attrs, {
      axes: over.map((d) => x0Dims.indexOf(d)),
      outShape: n.type.dims.map((d) => sizes.get(d)!),
      inShape: ins[0]?.shape ?? [],
      backend: ctx.backend,
      env: ctx.env,
      consts: ins.map(() => undefined),
      sizes,
      needsGrad: ins.map(() => true),
    });
    vals.push(cast(out, TF_DTYPE[n.type.dtype]));
  }
  return vals[vals.length - 1]!;
}

/** The reference semantics: the generated kernel, in float64. */
function referenceFused(xs: readonly RefArray[], attrs: Readonly<Record<string, unknown>>, out: { dims: readonly string[]; shape: readonly number[]; sizes?: ReadonlyMap<string, number> }): RefArray {
  const text = String(attrs['body']);
  const body = parseBody(text);
  const sizes = bodySizes(body, xs.map((x) => x.shape), out.shape, out.sizes);
  const st = kernelFor(text, body, sizes).forward(xs.map((x) => x.data));
  return { dims: out.dims, shape: out.shape, data: st.out };
}

export const fused = defineOp({
  name: 'fused',
  dsl: null,
  summary: 'A fused region: elementwise ops and their trailing reductions, computed in one generated kernel (made by the `fuse` pass).',
  traits: ['pure'],
  inputs: [],
  infer: (types, ctx) => {
    // Re-derive the body's types from its ops' own type rules; the root's type is the node's.
    const body = parseBody(ctx.attrs['body']);
    if (types.length !== body.leaves.length) return ctx.error('RLP9001', { detail: 'fused arity' });
    for (let l = 0; l < types.length; l++) if (!sameType(types[l]!, body.leaves[l]!)) return ctx.error('RLP9001', { detail: `fused leaf ${l}` });
    const at = (a: number): Type => (a < 0 ? body.leaves[-a - 1]! : body.nodes[a]!.type);
    for (const n of body.nodes) {
      if (n.args.some((a, j) => a >= body.nodes.indexOf(n) || (a < 0 && -a - 1 >= body.leaves.length) || j < 0)) return ctx.error('RLP9001', { detail: 'fused args' });
      const t = opOf(n.op).infer(n.args.map(at), { ...ctx, attrs: n.attrs });
      if (t === null || !sameType(t, n.type)) return ctx.error('RLP9001', { detail: `fused ${n.op}` });
    }
    bodyShape(body);
    return body.nodes[body.nodes.length - 1]!.type;
  },
  reference: referenceFused as OpDef['reference'],
  lower: lowerFused as OpDef['lower'],
});
