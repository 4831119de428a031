/** `rlp eval --repeat`, `--profile` and `-O0` (the bundled CLI). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'rlp-eval-'));
const batch = join(dir, 'b.json');
const tok = (f: (i: number) => number) => ({ shape: [2, 2, 3], data: Array.from({ length: 12 }, (_, i) => f(i)) });
writeFileSync(batch, JSON.stringify({
  logp: tok((i) => -0.1 * (i + 1)), old_logp: tok((i) => -0.1 * (i + 1) + 0.05 * ((i % 3) - 1)), ref_logp: tok((i) => -0.1 * i),
  mask: tok((i) => (i % 3 === 2 && i > 5 ? 0 : 1)), reward: { shape: [2, 2], data: [0, 1, 1, 1] },
}));

function evalCli(extra: string[]) {
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'eval', 'grpo', '--batch', batch, '--grad', 'logp', '--backend', 'cpu', '--set', 'group=2', ...extra], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('rlp eval --repeat', () => {
  it('adds timing {ms, min_ms, n} beside unchanged results', () => {
    const plain = evalCli([]);
    const timed = evalCli(['--repeat', '3']);
    expect(timed.code).toBe(0);
    const a = JSON.parse(plain.out) as Record<string, unknown>;
    const b = JSON.parse(timed.out) as Record<string, unknown> & { timing: { ms: number; min_ms: number; n: number } };
    expect(b.timing.n).toBe(3);
    expect(b.timing.min_ms).toBeLessThanOrEqual(b.timing.ms);
    expect(b.timing.min_ms).toBeGreaterThan(0);
    const { timing: _, ...rest } = b;
    expect(rest).toEqual(a);
  });

  it('refuses a count that is not a whole number >= 1 as a usage error', () => {
    const r = evalCli(['--repeat', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--repeat takes a whole number of runs');
  });
});

describe('rlp eval --profile', () => {
  it('prints a kernel table to stderr and the same results to stdout', () => {
    const r = evalCli(['--profile']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^\s*ms\s+bytes\s+kernel\s+step/);
    expect(r.err).toMatch(/total: \d+ kernels, [0-9.]+ ms, \d+ bytes written/);
    // The gradient's time is shown whether or not its kernels are among the slowest rows: grpo's
    // fused loss differentiates in one generated kernel, so the backward has at least that one.
    const back = /^backward: (\d+) kernels, [0-9.]+ ms, (\d+) bytes written$/m.exec(r.err);
    expect(back, r.err).not.toBeNull();
    expect(Number(back![1])).toBeGreaterThanOrEqual(1);
    expect(Number(back![2])).toBeGreaterThan(0);
    expect(JSON.parse(r.out)).toEqual(JSON.parse(evalCli([]).out));
  });
});

describe('rlp eval -O0', () => {
  it('gives the optimized results within 1e-5', () => {
    const a = JSON.parse(evalCli([]).out) as Record<string, { data: number[] }>;
    const b = JSON.parse(evalCli(['-O0']).out) as Record<string, { data: number[] }>;
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) a[k]!.data.forEach((v, i) => expect(Math.abs(v - b[k]!.data[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
  });
});
