/** `rlp env` prints versions and one line per backend, never failing on a missing optional one. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../runtime/cli/version.js';
import pkg from '../../package.json' with { type: 'json' };

describe('rlp env', () => {
  it('lists versions and what every backend reports', () => {
    const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'env'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`rlp ${VERSION}`);
    expect(r.stdout).toContain('@tensorflow/tfjs 4.22.0');
    expect(r.stdout).toMatch(/^ {2}wasm +ok +WebAssembly/m);
    expect(r.stdout).toMatch(/^ {2}cpu +ok +plain JavaScript/m);
    expect(r.stdout).toMatch(/^ {2}webgpu +(ok|unavailable) /m);
    expect(r.stdout).toMatch(/^ {2}tensorflow +(ok|unavailable) /m);
  });

  it('reports the version package.json declares', () => {
    expect(VERSION).toBe(pkg.version);
  });
});
