/** The TF.js 4.22 workarounds: each defect is reproduced where it lives, and the fix checked. */
import { describe, expect, it } from 'vitest';
import { useBackend, webgpuAvailable, type BackendName } from '../../../runtime/backends/index.js';
import { castTo, gatherFlat, oneHotF32 } from '../../../runtime/backends/fixes.js';

const BACKENDS: BackendName[] = ['cpu', 'wasm', ...((await webgpuAvailable()) ? (['webgpu'] as const) : [])];

describe.each(BACKENDS)('fixes on %s', (backend) => {
  it('differentiates gather (scatter-add gradient), repeated indices included', async () => {
    const { tf } = await useBackend(backend);
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const idx = tf.tensor1d([2, 0, 2, 2], 'int32');
    const g = tf.grad((p) => tf.sum(tf.mul(tf.gather(p, idx), tf.tensor2d([[1, 10], [2, 20], [3, 30], [4, 40]]))))(x);
    expect(Array.from(await g.data())).toEqual([2, 20, 0, 0, 8, 80]);
    tf.dispose([x, idx, g]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('clones without losing values: a clone outlives its source, and memory returns to where it started', async () => {
    const { tf } = await useBackend(backend);
    const before = tf.memory().numTensors;
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3]);
    const z = tf.add(y, 1);
    y.dispose();
    expect(Array.from(await z.data())).toEqual([2, 3, 4]);
    z.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('computes matmul gradients for every transpose combination', async () => {
    const { tf } = await useBackend(backend);
    const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const b = tf.tensor2d([[1, 0], [2, 1], [0, 3]]);
    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const A = ta ? tf.transpose(a) : a;
      const Bm = tb ? tf.transpose(b) : b;
      const [ga, gb] = tf.grads((...xs) => tf.sum(tf.matMul(xs[0]!, xs[1]!, ta, tb)))([A, Bm]);
      // d sum(AB) / dA = 1 B^T, d / dB = A^T 1, in the orientation of each operand.
      const wantA = tf.matMul(tf.ones([2, 2]), b, false, true);
      const wantB = tf.matMul(a, tf.ones([2, 2]), true, false);
      expect(Array.from(await ga!.data())).toEqual(Array.from(await (ta ? tf.transpose(wantA) : wantA).data()));
      expect(Array.from(await gb!.data())).toEqual(Array.from(await (tb ? tf.transpose(wantB) : wantB).data()));
    }
  });

  it('differentiates minimum and maximum with a broadcast operand, summing its gradient', async () => {
    const { tf } = await useBackend(backend);
    const x = tf.tensor2d([[1, 5], [3, 2]]);
    const lo = tf.tensor1d([2, 3]);
    const [gx, gl] = tf.grads((a, b) => tf.sum(tf.mul(tf.maximum(a!, b!), tf.tensor2d([[1, 10], [100, 1000]]))))([x, lo]);
    // max picks lo at [0,0] (1 < 2) and [1,1] (2 < 3); ties would go to x.
    expect(Array.from(await gx!.data())).toEqual([0, 10, 100, 0]);
    expect(Array.from(await gl!.data())).toEqual([1, 1000]);
    const [hx, hs] = tf.grads((a, b) => tf.sum(tf.minimum(a!, b!)))([x, tf.scalar(2)]);
    expect(Array.from(await hx!.data())).toEqual([1, 0, 0, 1]);
    expect(Array.from(await hs!.data())).toEqual([2]);
    expect(hs!.shape).toEqual([]);
  });

  it('builds float one-hot vectors correctly', async () => {
    const { tf } = await useBackend(backend);
    const t = oneHotF32(tf, tf.tensor1d([0, 2, 1], 'int32'), 3);
    expect(t.dtype).toBe('float32');
    expect(Array.from(await t.data())).toEqual([1, 0, 0, 0, 0, 1, 0, 1, 0]);
  });

  it('casts bool and int32 to float32 that a transpose reads, on the device and on the host', async () => {
    const { tf } = await useBackend(backend);
    // 12 x 10 x 10 = 1200 elements: past webgpu's CPU hand-off (1000), so the cast and the transpose run as GPU programs.
    for (const shape of [[12, 10, 10], [2, 3, 1]] as const) {
      const [a, b, c] = shape;
      const v = Array.from({ length: a * b * c }, (_, i) => (i % 3) - 1);
      const x = tf.tensor3d(v, [...shape]);
      // transpose [2, 0, 1]: out[k][i][j] = x[i][j][k]
      const want: number[] = [];
      for (let k = 0; k < c; k++) for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) want.push(v[(i * b + j) * c + k]!);
      const fromBool = tf.cast(tf.greater(x, 0), 'float32');
      const fromInt = tf.cast(tf.cast(x, 'int32'), 'float32');
      expect(fromBool.dtype).toBe('float32');
      expect(Array.from(await tf.transpose(fromBool, [2, 0, 1]).data())).toEqual(want.map((y) => (y > 0 ? 1 : 0)));
      expect(Array.from(await tf.transpose(fromInt, [2, 0, 1]).data())).toEqual(want);
      expect(Array.from(await tf.sub(1, fromBool).data())).toEqual(v.map((y) => (y > 0 ? 0 : 1)));
      tf.dispose([x, fromBool, fromInt]);
    }
  });

  it('casts to bool by comparing with zero', async () => {
    const { tf } = await useBackend(backend);
    expect(Array.from(await castTo(tf, tf.tensor1d([-0.5, 0, 0.5, -2, 3]), 'bool').data())).toEqual([1, 0, 1, 1, 1]);
  });

  it('gathers in blocks with rebased indices where offsets would pass the exact limit', async () => {
    const { tf } = await useBackend(backend);
    const x = tf.tensor2d(Array.from({ length: 10 }, (_, i) => [i, 100 + i]));
    const idx = Int32Array.from([9, 0, 4, 4, 7, 1]);
    const want = [9, 109, 0, 100, 4, 104, 4, 104, 7, 107, 1, 101];
    // A tiny limit forces the block path (what webgpu takes past 2^24 elements).
    expect(Array.from(await gatherFlat(tf, x, idx, 'webgpu', 6).data())).toEqual(want);
    expect(Array.from(await gatherFlat(tf, x, idx, backend).data())).toEqual(want);
  });
});

describe('the defects themselves (so the fixes stay needed and honest)', () => {
  it('our Maximum gradient is the one registered (the stock one returns the output shape for a broadcast operand)', async () => {
    const { tf } = await useBackend('cpu');
    const gf = tf.getGradient('Maximum');
    expect(gf).toBeDefined();
    expect(String(gf!.gradFunc)).toContain('unbroadcast');
  });

  it('wasm runs our scatter-add for UnsortedSegmentSum', async () => {
    const { tf } = await useBackend('wasm');
    const k = tf.getKernel('UnsortedSegmentSum', 'wasm');
    expect(k).toBeDefined();
    expect(String(k!.kernelFunc)).toContain('readSync');
  });

  it("wasm's float one-hot is broken without the fix", async () => {
    const { tf } = await useBackend('wasm');
    const raw = Array.from(await tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3, 1, 0, 'float32').data());
    expect(raw).not.toEqual([1, 0, 0, 0, 0, 1]);
  });

  it("wasm's bool cast is broken without the fix", async () => {
    const { tf } = await useBackend('wasm');
    expect(Array.from(await tf.cast(tf.tensor1d([-0.5, 0.5]), 'bool').data())).not.toEqual([1, 1]);
  });
});

interface DeviceLike {
  pushErrorScope(kind: 'validation'): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

describe.runIf(BACKENDS.includes('webgpu'))('webgpu Cast to float32', () => {
  it('is ours, and writes a float32 buffer (the stock one relabels the int buffer)', async () => {
    const { tf } = await useBackend('webgpu');
    expect(String(tf.getKernel('Cast', 'webgpu')!.kernelFunc)).toContain('rlp_cast_f32');
    const be = tf.backend() as unknown as { tensorMap: { get(id: object): { dtype: string } } };
    // Rank 7 (past what TF.js's shader prelude indexes: the program runs flat).
    const t = tf.cast(tf.tensor(Array.from({ length: 1200 }, (_, i) => i % 2 === 1), [2, 3, 2, 5, 2, 5, 2], 'bool'), 'float32');
    expect(be.tensorMap.get(t.dataId).dtype).toBe('float32');
    expect(t.shape).toEqual([2, 3, 2, 5, 2, 5, 2]);
    expect(Array.from(await t.data())).toEqual(Array.from({ length: 1200 }, (_, i) => i % 2));
    t.dispose();
  });

  it('the defect: an int buffer labelled float32 (what the stock cast returns) makes Transpose an invalid shader', async () => {
    const { tf } = await useBackend('webgpu');
    const device = (tf.backend() as unknown as { device: DeviceLike }).device;
    const ints = tf.tensor3d(Array.from({ length: 1200 }, (_, i) => i % 5), [12, 10, 10], 'int32');
    await ints.data();
    // The stock cast's result: the same data, relabelled (tfjs-backend-webgpu kernels/Cast.js, `identity`).
    const relabelled = tf.engine().makeTensorFromTensorInfo({ dataId: ints.dataId, shape: [12, 10, 10], dtype: 'float32' });
    tf.engine().incRef(relabelled, tf.backend());
    device.pushErrorScope('validation');
    const y = tf.transpose(relabelled, [2, 0, 1]);
    const err = await device.popErrorScope();
    expect(err?.message).toMatch(/setOutputAtIndex.*expected 'f32', got 'i32'/);
    tf.dispose([y, relabelled, ints]);
  });
});

describe('wasm Identity', () => {
  it('shares its input memory instead of copying it (the fix), counted so either side may be disposed first', async () => {
    const { tf } = await useBackend('wasm');
    const be = tf.backend() as unknown as { getMemoryOffset(id: object): number };
    const x = tf.tensor1d([4, 5, 6]);
    const y = tf.clone(x);
    expect(be.getMemoryOffset(y.dataId)).toBe(be.getMemoryOffset(x.dataId));
    y.dispose();
    expect(Array.from(await x.data())).toEqual([4, 5, 6]);
    x.dispose();
  });
});
