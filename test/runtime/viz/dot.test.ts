/** `rlp viz -o X.dot`: the DOT of the standard pipelines is golden, for both views and a diff. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectGolden } from '../../helpers/golden.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-viz-dot-'));

function vizDot(name: string, args: string[]): string {
  const out = join(dir, `${name}.dot`);
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'viz', ...args, '-o', out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(`${out}\n`);
  return readFileSync(out, 'utf8');
}

describe('rlp viz -o FILE.dot', () => {
  const cases: [string, string[]][] = [
    ['grpo', ['grpo']],
    ['grpo-ops', ['grpo', '--ops']],
    ['dpo', ['dpo']],
    ['dpo-ops', ['dpo', '--ops']],
    ['grpo-diff-dr_grpo', ['grpo', '--diff', 'dr_grpo']],
  ];
  for (const [golden, args] of cases) {
    it(`draws the golden ${golden} (rlp viz ${args.join(' ')})`, () => {
      expectGolden(`test/golden/viz/${golden}.dot`, vizDot(golden, args));
    });
  }

  it('draws the same bytes on every run', () => {
    expect(vizDot('again', ['grpo', '--ops'])).toBe(vizDot('again2', ['grpo', '--ops']));
  });

  it('puts each stage in its own cluster and marks the shared-prefix inputs', () => {
    const dot = vizDot('stages', ['grpo']);
    for (const s of ['sample', 'reward', 'advantage', 'loss']) expect(dot).toContain(`subgraph "cluster_${s}"`);
    expect(dot).not.toContain('cluster_normalize');
    const policy = dot.slice(dot.indexOf('subgraph "cluster_policy"'), dot.indexOf('subgraph "cluster_sample"'));
    expect(policy).toContain('"in:logp"');
    expect(policy).toContain('"in:old_logp"');
    expect(policy).toContain('"in:ref_logp"');
    expect(policy).not.toContain('"in:mask"');
  });
});
