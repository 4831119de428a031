/** Where a WebGPU adapter must exist (CI installs lavapipe), its absence fails instead of skipping. */
import { describe, expect, it } from 'vitest';
import { useBackend, webgpuAvailable } from '../../../runtime/backends/index.js';

const required = process.env['RLP_REQUIRE_WEBGPU'] === '1';
const available = await webgpuAvailable();

describe('the webgpu backend', () => {
  it.runIf(required)('has an adapter, as this environment requires (RLP_REQUIRE_WEBGPU=1)', () => {
    expect(available).toBe(true);
  });

  it.runIf(available)('computes on the adapter and reports it', async () => {
    const { tf, info } = await useBackend('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(info.detail.length).toBeGreaterThan(0);
    const t = tf.sum(tf.tensor1d([1, 2, 3]));
    expect((await t.data())[0]).toBe(6);
    t.dispose();
  });
});
