/**
 * Commands that compute nothing (check, compile, explain, list, viz without --batch) never import
 * TF.js (or Dawn): checked by a module hook that reports every TF.js/webgpu module the bundled CLI
 * resolves, not by timing (the cold-start ratio to `node -e 0` is in `npm run bench compile`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function loaded(args: string[]): { code: number | null; modules: string[] } {
  const r = spawnSync(process.execPath, ['--import', './test/helpers/load-hook.mjs', 'runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, modules: r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')) };
}

const out = mkdtempSync(join(tmpdir(), 'rlp-lazy-viz-'));

describe('lazy TF.js', () => {
  it.each([
    ['check', ['check', 'stdlib/grpo.rlp', 'stdlib/dpo.rlp']],
    ['compile', ['compile', 'grpo']],
    ['compile -O0 --emit json', ['compile', 'dpo', '-O0', '--emit', 'json']],
    ['explain a pipeline', ['explain', 'grpo']],
    ['explain an op', ['explain', 'clip']],
    ['list', ['list']],
    ['viz to .dot', ['viz', 'grpo', '-o', join(out, 'grpo.dot')]],
    ['viz --ops --optimized to .svg', ['viz', 'dpo', '--ops', '--optimized', '-o', join(out, 'dpo.svg')]],
    ['viz --diff to .html', ['viz', 'grpo', '--diff', 'dr_grpo', '-o', join(out, 'diff.html')]],
  ])('%s imports no TF.js module', (_, args) => {
    const r = loaded(args);
    expect(r.code).toBe(0);
    expect(r.modules).toEqual([]);
  });

  it('eval does import TF.js (so the hook sees imports when they happen)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlp-lazy-'));
    const file = join(dir, 'b.json');
    const t = { shape: [1, 2, 2], data: [-1, -1, -1, -1] };
    writeFileSync(file, JSON.stringify({ logp: t, old_logp: t, ref_logp: t, mask: { shape: [1, 2, 2], data: [1, 1, 1, 0] }, reward: { shape: [1, 2], data: [0, 1] } }));
    const r = loaded(['eval', 'grpo', '--batch', file, '--backend', 'cpu', '--set', 'group=2']);
    expect(r.code).toBe(0);
    expect(r.modules.some((m) => m.includes('@tensorflow/tfjs'))).toBe(true);
  });
});
