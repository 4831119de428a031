/** `rlp env` prints versions and one line per backend, never failing on a missing optional one. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../runtime/cli/version.js';
import { hideBuildPaths } from '../../runtime/cli/commands/env.js';
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

  it('hides the paths of the machine a native library was built on', () => {
    expect(hideBuildPaths('Warning: /home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/DeviceVk.cpp:120 reduced')).toBe('Warning: DeviceVk.cpp:120 reduced');
    expect(hideBuildPaths('C:\\a\\b\\dawn.node failed')).toBe('dawn.node failed');
  });

  it('prints no absolute path of another machine, on stdout or stderr', () => {
    const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'env'], { encoding: 'utf8' });
    expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/\/home\/runner|\/__w\/|third_party\/dawn|\/Users\//);
  });
});
