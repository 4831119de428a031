/** `rlp run -O0`: training on the unoptimized IR gives the same first step as the fused IR. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function firstStep(extra: string[]): Record<string, number> {
  const out = join(mkdtempSync(join(tmpdir(), 'rlp-run-')), 'r');
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'run', 'grpo', '--steps', '1', '--prompts', '4', '--backend', 'cpu', '--out', out, ...extra], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')[0]!) as Record<string, number>;
}

describe('rlp run -O0', () => {
  it('trains one step with the same loss and reward as the optimized IR', () => {
    const a = firstStep([]);
    const b = firstStep(['-O0']);
    const keys = Object.keys(a).filter((k) => typeof a[k] === 'number' && /loss|reward/.test(k));
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(Math.abs(a[k]! - b[k]!), k).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(b[k]!)));
  });
});
