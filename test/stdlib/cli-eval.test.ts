/**
 * Every standard pipeline compiles, checks clean and runs under `rlp eval` (the bundled CLI), on a
 * batch file written from the shared pipeline-batch helper (so declared inputs, reward functions
 * and a pipeline's own dims are fed for a pipeline added later too).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stdlibPipelines } from '../../runtime/cli/resolve-target.js';
import { batchJson, pipelineBatch } from '../helpers/pipeline-batch.js';
import { GROUP, PREFERENCE, TOKEN_LEVEL } from '../helpers/references.js';
import { II_TESTED } from '../helpers/references-ii.js';
import { II_B_TESTED } from '../helpers/references-ii-b.js';
import { III_TESTED } from '../helpers/references-iii.js';
import { GAPS_TESTED } from '../helpers/references-gaps.js';
import { III_MORE_TESTED } from '../helpers/references-iii-more.js';
import { stdlibPipeline } from '../helpers/stdlib-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-std-'));
const names = [...stdlibPipelines().keys()];

describe('rlp eval on every standard pipeline', () => {
  it('covers every pipeline the stdlib declares, and each has a reference test', () => {
    expect(names.length).toBeGreaterThanOrEqual(25);
    const referenced = new Set([...Object.keys(GROUP), ...Object.keys(TOKEN_LEVEL), ...Object.keys(PREFERENCE), ...II_TESTED, ...II_B_TESTED, ...III_TESTED, ...III_MORE_TESTED, ...GAPS_TESTED]);
    expect(names.filter((n) => !referenced.has(n))).toEqual([]);
    // The lists of standard library II and III name what their test files check: each name is there.
    for (const [list, file] of [[II_TESTED, 'test/stdlib/stdlib-ii.test.ts'], [II_B_TESTED, 'test/stdlib/stdlib-ii-b.test.ts'], [III_TESTED, 'test/stdlib/stdlib-iii.test.ts'], [III_MORE_TESTED, 'test/stdlib/stdlib-iii-more.test.ts'], [GAPS_TESTED, 'test/stdlib/stdlib-gaps.test.ts']] as const) {
      const text = readFileSync(file, 'utf8');
      expect(list.filter((n) => !new RegExp(`\\b${n}\\b`).test(text)), file).toEqual([]);
    }
  });

  it('checks the whole stdlib clean', () => {
    const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'check', ...new Set(stdlibPipelines().values())], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/no problems/);
  });

  for (const name of names) {
    it(`${name} runs and reports a finite loss and gradient`, () => {
      const p = stdlibPipeline(name);
      const b = pipelineBatch(p, { B: 2, G: 2, T: 3, seed: 1, reward: (r) => r() });
      const set = Object.entries(b.set).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
      const file = join(dir, `${name}.json`);
      const json = batchJson(b);
      writeFileSync(file, JSON.stringify(json));
      // The policy's log-probs: `logp`, or a pipeline's own (mdpo_diffusion's per-step `step_logp`).
      const fed = Object.keys(json);
      const policy = fed.includes('logp') ? 'logp' : fed.find((n) => /logp$/.test(n) && !/old|ref|rollout/.test(n))!;
      const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'eval', name, '--batch', file, '--grad', policy, ...set], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, { data: (number | string)[] }>;
      expect(Number.isFinite(out['loss']!.data[0])).toBe(true);
      expect(out[`grad.${policy}`]!.data.every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
    });
  }
});
