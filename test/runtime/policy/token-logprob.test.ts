/** The fused token log-prob kernel against the stock ops and against central differences. */
import { describe, expect, it } from 'vitest';
import { useBackend, type BackendName } from '../../../runtime/backends/index.js';
import { stockTokenLogProbs, tokenLogProbs } from '../../../runtime/policy/token-logprob.js';
import { rng } from '../../helpers/random-batch.js';

const N = 6;
const V = 13;

describe.each(['cpu', 'wasm'] as BackendName[])('tokenLogProbs on %s', (backend) => {
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
