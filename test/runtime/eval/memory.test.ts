/** Memory discipline: evaluation and repeated gradient steps leave no tensor behind, on every backend. */
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { makeSource, span } from '../../../grammar/source.js';
import { useBackend, webgpuAvailable, type BackendName } from '../../../runtime/backends/index.js';
import type { BatchEntry } from '../../../runtime/batch/read.js';
import { evaluate } from '../../../runtime/eval/evaluate.js';
import { validateBatch } from '../../../runtime/eval/validate.js';
import { randomFeed } from '../../helpers/random-batch.js';

const BACKENDS: BackendName[] = ['cpu', 'wasm', ...((await webgpuAvailable()) ? (['webgpu'] as const) : [])];
const file = makeSource('batch.json', '');

function entriesFor(name: string) {
  const p = compileFiles([`stdlib/${name}.rlp`]).pipelines[0]!;
  const feed = randomFeed(p.ir, 3, 2, 4, 5);
  if (feed['reward_fn.correct'] !== undefined) feed['reward'] = { dims: ['B', 'G'], shape: [2, 4], data: Float64Array.from([1, 0, 1, 1, 0, 0, 1, 0]) };
  delete feed['reward_fn.correct'];
  const entries: BatchEntry[] = Object.entries(feed).map(([n, a]) => ({ name: n, tensor: { shape: a.shape, data: a.data }, span: span(file, 0, 0) }));
  return { p, entries };
}

describe.each(BACKENDS)('memory on %s', (backend) => {
  for (const name of ['grpo', 'dr_grpo', 'dpo']) {
    it(`${name}: eval and 5 gradient evaluations return tf.memory() to where it started`, async () => {
      const { tf } = await useBackend(backend);
      const { p, entries } = entriesFor(name);
      const v = validateBatch(p.ir, entries, { set: {}, grad: ['logp'], allowNonfinite: false, fileSpan: span(file, 0, 0) });
      expect(v.diagnostics).toEqual([]);
      const start = tf.memory().numTensors;
      const first = await evaluate(tf, backend, v.valid!, []);
      expect(tf.memory().numTensors).toBe(start);
      for (let i = 0; i < 5; i++) {
        const r = await evaluate(tf, backend, v.valid!, ['logp']);
        expect(r['loss']!.data[0]).toBeCloseTo(first['loss']!.data[0]!, 5);
        expect(r['grad.logp']!.shape).toEqual([2, 4, 5]);
        expect(tf.memory().numTensors).toBe(start);
      }
    });
  }

  it('agrees with the cpu backend on grpo', async () => {
    const { p, entries } = entriesFor('grpo');
    const v = validateBatch(p.ir, entries, { set: {}, grad: ['logp'], allowNonfinite: false, fileSpan: span(file, 0, 0) });
    const cpu = await evaluate((await useBackend('cpu')).tf, 'cpu', v.valid!, ['logp']);
    const here = await evaluate((await useBackend(backend)).tf, backend, v.valid!, ['logp']);
    for (const k of Object.keys(cpu)) {
      const a = cpu[k]!.data;
      const b = here[k]!.data;
      a.forEach((x, i) => expect(Math.abs(b[i]! - x), `${k}[${i}]`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(x))));
    }
  });
});
