/**
 * The fused token log-prob kernel against the stock ops, a float64 reference and central
 * differences: on cpu and wasm (the host loops) and on webgpu (the generated WGSL programs;
 * skipped without an adapter unless RLP_REQUIRE_WEBGPU=1).
 */
import { describe, expect, it } from 'vitest';
import { useBackend, webgpuAvailable, type BackendName } from '../../../runtime/backends/index.js';
import { TOKEN_LOGPROB_KERNEL } from '../../../runtime/policy/token-logprob-wgsl.js';
import { stockTokenLogProbs, tokenLogProbs } from '../../../runtime/policy/token-logprob.js';
import { rng } from '../../helpers/random-batch.js';

const N = 6;
const V = 13;

const webgpu = (await webgpuAvailable()) || process.env['RLP_REQUIRE_WEBGPU'] === '1';
const BACKENDS: BackendName[] = webgpu ? ['cpu', 'wasm', 'webgpu'] : ['cpu', 'wasm'];

describe.each(BACKENDS)('tokenLogProbs on %s', (backend) => {
  const r = rng(3);
  const z = Float32Array.from({ length: N * V }, () => 8 * r() - 4);
  const ids = Int32Array.from({ length: N }, () => Math.floor(r() * V));
  const cot = Float32Array.from({ length: N }, () => r() - 0.5);

  it('gives the stock values and gradients within 1e-5', async () => {
    const { tf } = await useBackend(backend);
    const x = tf.tensor(z, [2, 3, V]);
    const c = tf.tensor(cot, [2, 3]);
    const run = (f: typeof stockTokenLogProbs) => tf.valueAndGrad((t: ReturnType<typeof tf.tensor>) => tf.sum(tf.mul(f(tf, t, ids), c)) as ReturnType<typeof tf.scalar>)(x);
    const a = run((t, l, i) => tokenLogProbs(t, l, i, backend));
    const b = run(stockTokenLogProbs);
    expect(Math.abs((await a.value.data())[0]! - (await b.value.data())[0]!)).toBeLessThan(1e-5);
    const ga = await a.grad.data();
    const gb = await b.grad.data();
    ga.forEach((v, i) => expect(Math.abs(v - gb[i]!)).toBeLessThan(1e-5));
    const fused = await tokenLogProbs(tf, x, ids, backend).data();
    const stock = await stockTokenLogProbs(tf, x, ids).data();
    fused.forEach((v, i) => expect(Math.abs(v - stock[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(stock[i]!))));
  });

  it('has the gradient of its own forward (central differences)', async () => {
    const { tf } = await useBackend(backend);
    const f = async (zz: Float32Array): Promise<number> => {
      const v = Array.from(await tokenLogProbs(tf, tf.tensor(zz, [N, V]), ids, backend).data());
      return v.reduce((a, x, i) => a + x * cot[i]!, 0);
    };
    const g = await tf.grad((t: ReturnType<typeof tf.tensor>) => tf.sum(tf.mul(tokenLogProbs(tf, t, ids, backend), tf.tensor(cot, [N]))) as ReturnType<typeof tf.scalar>)(tf.tensor(z, [N, V])).data();
    for (const k of [0, 5, ids[1]! + V, 40, N * V - 1]) {
      const h = 1e-2;
      const up = Float32Array.from(z);
      const dn = Float32Array.from(z);
      up[k]! += h;
      dn[k]! -= h;
      const fd = ((await f(up)) - (await f(dn))) / (2 * h);
      expect(Math.abs(fd - g[k]!)).toBeLessThan(2e-3);
    }
  });
});

/** Float64 log softmax(z)[id] per row and the gradient of sum(cot * it). */
function reference(z: Float32Array, ids: Int32Array, cot: Float32Array, V: number): { value: Float64Array; grad: Float64Array } {
  const N = ids.length;
  const value = new Float64Array(N);
  const grad = new Float64Array(N * V);
  for (let n = 0; n < N; n++) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, z[n * V + v]!);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(z[n * V + v]! - m);
    const lse = m + Math.log(s);
    value[n] = z[n * V + ids[n]!]! - lse;
    for (let v = 0; v < V; v++) grad[n * V + v] = cot[n]! * ((v === ids[n] ? 1 : 0) - Math.exp(z[n * V + v]! - lse));
  }
  return { value, grad };
}

/**
 * Shapes around the webgpu programs' workgroup sizes (64 threads a row below V = 256, 128 below
 * 2048, 256 above; the backward 256 a workgroup): V below, at and off a multiple of them, one row
 * and several; ids at 0 and V - 1; logits up to +-100 (e^89 overflows f32: the sum needs the max shift).
 */
const CASES: { N: number; V: number; scale: number }[] = [
  { N: 1, V: 7, scale: 4 },
  { N: 1, V: 3001, scale: 100 },
  { N: 5, V: 64, scale: 80 },
  { N: 4, V: 300, scale: 10 },
  { N: 3, V: 2500, scale: 90 },
  { N: 7, V: 4096, scale: 3 },
];

describe.each(BACKENDS)('tokenLogProbs on %s against a float64 reference', (backend) => {
  it.each(CASES)('N=$N V=$V logits within +-$scale', async ({ N, V, scale }) => {
    const { tf } = await useBackend(backend);
    const r = rng(V + N);
    const z = Float32Array.from({ length: N * V }, () => scale * (2 * r() - 1));
    const ids = Int32Array.from({ length: N }, (_, n) => (n === 0 ? 0 : n === 1 ? V - 1 : Math.floor(r() * V)));
    if (N === 1) ids[0] = V - 1;
    // The largest logit of row 0 at its id: the picked log-prob near 0, the others far below.
    z[ids[0]!] = scale;
    const cot = Float32Array.from({ length: N }, () => r() - 0.5);
    const ref = reference(z, ids, cot, V);
    const x = tf.tensor(z, [N, V]);
    const c = tf.tensor(cot, [N]);
    const run = (f: (l: ReturnType<typeof tf.tensor>) => ReturnType<typeof tf.tensor>) => tf.valueAndGrad((t: ReturnType<typeof tf.tensor>) => tf.sum(tf.mul(f(t), c)) as ReturnType<typeof tf.scalar>)(x);
    const value = await tokenLogProbs(tf, x, ids, backend).data();
    const stock = await stockTokenLogProbs(tf, x, ids).data();
    value.forEach((v, n) => {
      expect(Number.isFinite(v)).toBe(true);
      // f32 rounding of lse (up to scale + log V) and of z[id] - lse: a few ulps of each.
      const tol = 2e-6 + 3e-7 * (scale + 10 + Math.abs(ref.value[n]!));
      expect(Math.abs(v - ref.value[n]!)).toBeLessThan(tol);
      expect(Math.abs(v - stock[n]!)).toBeLessThan(2 * tol);
    });
    const fused = run((l) => tokenLogProbs(tf, l, ids, backend));
    const st = run((l) => stockTokenLogProbs(tf, l, ids));
    const g = await fused.grad.data();
    const gs = await st.grad.data();
    expect(g.length).toBe(N * V);
    let worst = 0;
    let worstStock = 0;
    for (let k = 0; k < N * V; k++) {
      worst = Math.max(worst, Math.abs(g[k]! - ref.grad[k]!));
      worstStock = Math.max(worstStock, Math.abs(g[k]! - gs[k]!));
    }
    // Gradients are bounded by |cot| <= 0.5: an absolute f32 tolerance.
    expect(worst).toBeLessThan(2e-6);
    expect(worstStock).toBeLessThan(4e-6);
    // The picked entries carry the (1 - p) term: row 0's id (its max) at about cot * (1 - p).
    expect(Math.abs(g[ids[0]!]! - ref.grad[ids[0]!]!)).toBeLessThan(2e-6);
    tf.dispose([x, c, fused.value, fused.grad, st.value, st.grad]);
  });
});

describe.runIf(webgpu)('tokenLogProbs on webgpu runs the generated programs', () => {
  it('launches one forward and one backward program and no one-hot or log-softmax kernel; only the gradient is [N, V]-sized', async () => {
    const { tf } = await useBackend('webgpu');
    const N = 3;
    const V = 500;
    const r = rng(9);
    const x = tf.tensor(Float32Array.from({ length: N * V }, () => r() - 0.5), [N, V]);
    const ids = Int32Array.from([0, 499, 17]);
    const c = tf.tensor([0.5, -0.25, 1], [N]);
    const prof = await tf.profile(async () => {
      const { value, grad } = tf.valueAndGrad((t: ReturnType<typeof tf.tensor>) => tf.sum(tf.mul(tokenLogProbs(tf, t, ids, 'webgpu'), c)) as ReturnType<typeof tf.scalar>)(x);
      await Promise.all([value.data(), grad.data()]);
      tf.dispose([value, grad]);
    });
    const names = prof.kernels.map((k) => k.name);
    expect(names.filter((n) => n === TOKEN_LOGPROB_KERNEL)).toHaveLength(2);
    expect(names.filter((n) => /OneHot|LogSoftmax|Softmax|Exp|Max/.test(n))).toEqual([]);
    // Reshape and Identity are views on webgpu (they share the buffer, write nothing).
    const big = prof.kernels.filter((k) => k.name !== 'Reshape' && k.name !== 'Identity' && k.outputShapes.some((s) => s.reduce((a, d) => a * d, 1) >= N * V));
    expect(big.map((k) => k.name)).toEqual([TOKEN_LOGPROB_KERNEL]);
    tf.dispose([x, c]);
  });
});
