/** Where a WebGPU adapter must exist (CI installs lavapipe), its absence fails instead of skipping. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it.runIf(available)('trains with rlp run as cpu does (no synchronous reads)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlp-webgpu-'));
    const run = (backend: string) => {
      const out = join(dir, backend);
      const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'run', 'grpo', '--backend', backend, '--steps', '2', '--prompts', '4', '--set', 'group=4', '--out', out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/synchronously reading/);
      return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    };
    const gpu = run('webgpu');
    const cpu = run('cpu');
    expect(gpu).toHaveLength(2);
    // Step 1 samples from the same weights with the same seeded choices: the same completions.
    expect(gpu[0]!['reward']).toBe(cpu[0]!['reward']);
    expect(gpu[0]!['loss']!).toBeCloseTo(cpu[0]!['loss']!, 4);
    expect(gpu[0]!['grad_norm']!).toBeCloseTo(cpu[0]!['grad_norm']!, 2);
  }, 120_000);
});
