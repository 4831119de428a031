/**
 * The fused token entropy (runtime/policy/token-logprob.ts `tokenEntropy`): values and gradients
 * against a float64 reference written here from the formula H = -sum p log p,
 * dH/dz_v = -p_v (log p_v + H), and against the stock ops; a -Infinity logit contributes nothing.
 * On cpu and wasm (the host loops) and on webgpu (the generated WGSL programs) where an adapter
 * exists; there, the profile shows two launches and no [N, V] kernel but the gradient's.
 */
import { describe, expect, it } from 'vitest';
import { useBackend, webgpuAvailable, type BackendName } from '../../../runtime/backends/index.js';
import { TOKEN_LOGPROB_KERNEL } from '../../../runtime/policy/token-logprob-wgsl.js';
import { stockTokenEntropy, tokenEntropy } from '../../../runtime/policy/token-logprob.js';
import { rng } from '../../helpers/random-batch.js';

/** Float64 entropy per row and the gradient of sum(cot * H), straight from the definition. */
function reference(z: Float32Array, N: number, V: number, cot: Float32Array): { value: Float64Array; grad: Float64Array } {
  const value = new Float64Array(N);
  const grad = new Float64Array(N * V);
  for (let n = 0; n < N; n++) {
    const row = Array.from(z.subarray(n * V, (n + 1) * V));
    const m = Math.max(...row);
    const Z = row.reduce((a, x) => a + Math.exp(x - m), 0);
    const p = row.map((x) => Math.exp(x - m) / Z);
    const H = -p.reduce((a, q) => a + (q === 0 ? 0 : q * Math.log(q)), 0);
    value[n] = H;
    p.forEach((q, v) => { grad[n * V + v] = q === 0 ? 0 : -cot[n]! * q * (Math.log(q) + H); });
  }
  return { value, grad };
}

const webgpu = (await webgpuAvailable()) || process.env['RLP_REQUIRE_WEBGPU'] === '1';
const BACKENDS: BackendName[] = webgpu ? ['cpu', 'wasm', 'webgpu'] : ['cpu', 'wasm'];
/** The fused kernels' error bound, times 1 + log V: float64 accumulation on the host, float32 in WGSL. */
const TOL: Record<string, number> = { cpu: 1e-6, wasm: 1e-6, webgpu: 4e-6 };
const CASES = [
  { N: 1, V: 5, scale: 1 },
  { N: 6, V: 13, scale: 4 },
  { N: 3, V: 257, scale: 30 },
  { N: 2, V: 4096, scale: 90 },
];

describe.each(BACKENDS)('tokenEntropy on %s', (backend) => {
  it.each(CASES)('N=$N V=$V logits within +-$scale: float64 reference and stock ops', async ({ N, V, scale }) => {
    const { tf } = await useBackend(backend);
    const r = rng(31 * V + N);
    const z = Float32Array.from({ length: N * V }, () => scale * (2 * r() - 1));
    const cot = Float32Array.from({ length: N }, () => r() - 0.5);
    const ref = reference(z, N, V, cot);
    const x = tf.tensor(z, [N, V]);
    const c = tf.tensor(cot, [N]);
    const run = (f: (l: ReturnType<typeof tf.tensor>) => ReturnType<typeof tf.tensor>) => tf.valueAndGrad((t: ReturnType<typeof tf.tensor>) => tf.sum(tf.mul(f(t), c)) as ReturnType<typeof tf.scalar>)(x);
    const fused = run((l) => tokenEntropy(tf, l, backend));
    const stock = run((l) => stockTokenEntropy(tf, l));
    const h = await tokenEntropy(tf, x, backend).data();
    const hs = await stockTokenEntropy(tf, x).data();
    h.forEach((v, n) => {
      // H <= log V; f32 rounding of the result, a few ulps of log V.
      expect(Math.abs(v - ref.value[n]!)).toBeLessThan(TOL[backend]! * (1 + Math.log(V)));
      expect(Math.abs(v - hs[n]!)).toBeLessThan(1e-5 * (1 + Math.log(V)));
    });
    const g = await fused.grad.data();
    const gs = await stock.grad.data();
    let worst = 0;
    let worstStock = 0;
    for (let k = 0; k < N * V; k++) {
      worst = Math.max(worst, Math.abs(g[k]! - ref.grad[k]!));
      worstStock = Math.max(worstStock, Math.abs(g[k]! - gs[k]!));
    }
    // |dH/dz| <= p (|log p| + H) is bounded by about 1 + log V; |cot| <= 0.5.
    expect(worst).toBeLessThan(TOL[backend]! * (1 + Math.log(V)));
    expect(worstStock).toBeLessThan(1e-5 * (1 + Math.log(V)));
    tf.dispose([x, c, fused.value, fused.grad, stock.value, stock.grad]);
  });

  it('has the gradient of its own forward (central differences, float64 reference of the value)', async () => {
    const { tf } = await useBackend(backend);
    const N = 2;
    const V = 6;
    const r = rng(5);
    const z = Float32Array.from({ length: N * V }, () => 2 * r() - 1);
    const cot = Float32Array.from({ length: N }, () => r() - 0.5);
    const x = tf.tensor(z, [N, V]);
    const c = tf.tensor(cot, [N]);
    const { grad } = tf.valueAndGrad((t: ReturnType<typeof tf.tensor>) => tf.sum(tf.mul(tokenEntropy(tf, t, backend), c)) as ReturnType<typeof tf.scalar>)(x);
    const g = await grad.data();
    const f = (zz: Float32Array): number => reference(zz, N, V, cot).value.reduce((a, h, n) => a + h * cot[n]!, 0);
    for (let k = 0; k < N * V; k++) {
      const up = Float32Array.from(z);
      const dn = Float32Array.from(z);
      up[k] = z[k]! + 1e-3;
      dn[k] = z[k]! - 1e-3;
      const fd = (f(up) - f(dn)) / (up[k]! - dn[k]!);
      expect(Math.abs(g[k]! - fd)).toBeLessThan(1e-5);
    }
    tf.dispose([x, c, grad]);
  });

  it('gives a -Infinity logit probability 0 and no contribution (the stock ops give NaN)', async () => {
    const { tf } = await useBackend(backend);
    const z = Float32Array.from([0.5, -Infinity, 1.5, -0.25]);
    const x = tf.tensor(z, [1, 4]);
    const c = tf.tensor([1], [1]);
    const ref = reference(Float32Array.from([0.5, 1.5, -0.25]), 1, 3, Float32Array.from([1]));
    const { value, grad } = tf.valueAndGrad((t: ReturnType<typeof tf.tensor>) => tf.sum(tf.mul(tokenEntropy(tf, t, backend), c)) as ReturnType<typeof tf.scalar>)(x);
    expect(Math.abs((await value.data())[0]! - ref.value[0]!)).toBeLessThan(TOL[backend]!);
    const g = await grad.data();
    expect(g[1]).toBe(0);
    [0, 2, 3].forEach((k, j) => expect(Math.abs(g[k]! - ref.grad[j]!)).toBeLessThan(TOL[backend]!));
    expect(Number.isNaN((await stockTokenEntropy(tf, x).data())[0])).toBe(true);
    tf.dispose([x, c, value, grad]);
  });
});

describe.runIf(webgpu)('tokenEntropy on webgpu runs the generated programs', () => {
  it('launches one forward and one backward program and no log-softmax or exp kernel; only the gradient is [N, V]-sized', async () => {
    const { tf } = await useBackend('webgpu');
    const N = 3;
    const V = 700;
    const r = rng(11);
    const x = tf.tensor(Float32Array.from({ length: N * V }, () => 3 * r() - 1.5), [N, V]);
    const c = tf.tensor([0.5, -0.25, 1], [N]);
    const prof = await tf.profile(async () => {
      const { value, grad } = tf.valueAndGrad((t: ReturnType<typeof tf.tensor>) => tf.sum(tf.mul(tokenEntropy(tf, t, 'webgpu'), c)) as ReturnType<typeof tf.scalar>)(x);
      await Promise.all([value.data(), grad.data()]);
      tf.dispose([value, grad]);
    });
    const names = prof.kernels.map((k) => k.name);
    expect(names.filter((n) => n === TOKEN_LOGPROB_KERNEL)).toHaveLength(2);
    expect(names.filter((n) => /LogSoftmax|Softmax|Exp|Max|Log$/.test(n))).toEqual([]);
    // Reshape and Identity are views on webgpu (they share the buffer, write nothing).
    const big = prof.kernels.filter((k) => k.name !== 'Reshape' && k.name !== 'Identity' && k.outputShapes.some((s) => s.reduce((a, d) => a * d, 1) >= N * V));
    expect(big.map((k) => k.name)).toEqual([TOKEN_LOGPROB_KERNEL]);
    tf.dispose([x, c]);
  });
});
