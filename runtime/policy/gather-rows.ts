/**
 * Rows of a matrix picked by index, as one kernel on the host-memory backends (cpu, wasm), whose
 * gather is slow at these sizes: out[i, :] = x[idx[i], :], or 0 where idx[i] < 0; the backward adds
 * each row's gradient back into its source row. Reads and writes where the backend keeps the data
 * (no copy); elsewhere the stock gather (which has no negative indices: none are passed there).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { hostTensor, hostView } from '../../compiler/ops/host-memory.js';
import { gatherFlat } from '../backends/fixes.js';
import type { TFModule } from '../backends/tf.js';

type Tensor = tfc.Tensor;

/** x [M, ...] -> [idx.length, ...]: the rows at idx (0 for a negative index on cpu and wasm). */
export function gatherRows(tf: TFModule, x: Tensor, idx: Int32Array, backend: string): Tensor {
  if (backend !== 'cpu' && backend !== 'wasm') return gatherFlat(tf, x, idx, backend);
  const M = x.shape[0]!;
  const rest = x.shape.slice(1);
  const k = rest.reduce((a, b) => a * b, 1);
  const n = idx.length;
  for (let i = 0; i < n; i++) if (idx[i]! >= M) throw new Error(`internal: row ${idx[i]} of ${M}`);
  const f = tf.customGrad((...args) => {
    const src = args[0] as Tensor;
    const out = hostTensor(tf, [n, ...rest], 'float32');
    const xs = hostView(tf, src) as Float32Array;
    const o = out.view() as Float32Array;
    for (let i = 0; i < n; i++) {
      const r = idx[i]!;
      if (r < 0) o.fill(0, i * k, (i + 1) * k);
      else o.set(xs.subarray(r * k, (r + 1) * k), i * k);
    }
    return {
      value: out.tensor,
      gradFunc: (dy: Tensor | Tensor[]) => {
        const grad = hostTensor(tf, [M, ...rest], 'float32');
        const g = hostView(tf, dy as Tensor) as Float32Array;
        const dx = grad.view() as Float32Array;
        dx.fill(0);
        for (let i = 0; i < n; i++) {
          const r = idx[i]!;
          if (r < 0) continue;
          const a = r * k;
          const b = i * k;
          for (let j = 0; j < k; j++) dx[a + j]! += g[b + j]!;
        }
        return grad.tensor;
      },
    };
  });
  return f(x);
}
