/** Every standard pipeline compiles, checks clean and runs under `rlp eval` (the bundled CLI). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stdlibPipelines } from '../../runtime/cli/resolve-target.js';
import { GROUP, PREFERENCE, TOKEN_LEVEL } from '../helpers/references.js';
import { III_TESTED } from '../helpers/references-iii.js';
import { III_MORE_TESTED } from '../helpers/references-iii-more.js';
import { entriesFor, makeBatch, stdlibPipeline } from '../helpers/stdlib-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-std-'));
const names = [...stdlibPipelines().keys()];

describe('rlp eval on every standard pipeline', () => {
  it('covers every pipeline the stdlib declares, and each has a reference test', () => {
    expect(names.length).toBeGreaterThanOrEqual(25);
    const referenced = new Set([...Object.keys(GROUP), ...Object.keys(TOKEN_LEVEL), ...Object.keys(PREFERENCE), ...III_TESTED]);
    expect(names.filter((n) => !referenced.has(n))).toEqual([]);
  });

  it('checks the whole stdlib clean', () => {
    const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'check', ...new Set(stdlibPipelines().values())], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/no problems/);
  });

  for (const name of names) {
    it(`${name} runs and reports a finite loss and gradient`, () => {
      const p = stdlibPipeline(name);
      const b = makeBatch(name in PREFERENCE ? { B: 2, G: 2, T: 3, seed: 1 } : { B: 2, G: 2, T: 3, seed: 1, reward: (r) => r() });
      const batch: Record<string, { shape: readonly number[]; data: number[] }> = Object.fromEntries(entriesFor(p, b).map((e) => [e.name, { shape: e.tensor.shape, data: Array.from(e.tensor.data) }]));
      const reads = (input: string): boolean => p.ir.ordered().some((n) => n.op === 'input' && n.attrs['name'] === input);
      // The inputs of standard library III: the sampler's log-probs (a little off old_logp) and unpaired labels.
      if (reads('rollout_logp')) batch['rollout_logp'] = { shape: [b.B, b.G, b.T], data: Array.from(b.old_logp, (v, k) => (b.mask[k] === 0 ? 0 : v - 0.1)) };
      if (reads('rewards')) batch['rewards'] = { shape: [b.B, b.G, 2], data: Array.from({ length: b.B * b.G * 2 }, (_, i) => (i * 0.37) % 1) };
      if (reads('reward_weights')) batch['reward_weights'] = { shape: [2], data: [1, 0.5] };
      if (reads('label')) batch['label'] = { shape: [b.B, b.G], data: Array.from({ length: b.B * b.G }, (_, i) => i % 2) };
      // sum_v pi_v^2 in (0, 1], seeded uniform numbers, truncation flags, entropies.
      if (reads('sum_pi_squared')) batch['sum_pi_squared'] = { shape: [b.B, b.G, b.T], data: Array.from(b.mask, (_, k) => 0.3 + 0.05 * (k % 7)) };
      if (reads('uniform')) batch['uniform'] = { shape: [b.B, b.G, b.T], data: Array.from(b.mask, (_, k) => ((k * 0.61) % 1)) };
      if (reads('truncated')) batch['truncated'] = { shape: [b.B, b.G], data: Array.from({ length: b.B * b.G }, (_, i) => (i === 1 ? 1 : 0)) };
      if (reads('entropy')) batch['entropy'] = { shape: [b.B, b.G, b.T], data: Array.from(b.mask, (_, k) => 0.5 + ((k * 0.37) % 1)) };
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(batch));
      const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'eval', name, '--batch', file, '--grad', 'logp'], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, { data: (number | string)[] }>;
      expect(Number.isFinite(out['loss']!.data[0])).toBe(true);
      expect(out['grad.logp']!.data.every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
    });
  }
});
