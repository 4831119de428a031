/** `rlp report` on the command line: the path printed, and a folder that is not a run as a user error. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const rlp = (args: string[]) => {
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('rlp report', () => {
  it('writes DIR/report.html and prints its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlp-report-cli-'));
    writeFileSync(join(dir, 'config.json'), '{"pipeline":"grpo"}');
    const r = rlp(['report', dir]);
    expect(r).toEqual({ code: 0, out: `${join(dir, 'report.html')}\n`, err: '' });
  });

  it('refuses a folder that is not a run with exit 1 and no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlp-report-cli-'));
    const r = rlp(['report', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: ${dir} is not a run folder: it has no config.json (rlp run --out writes one)\n`);
  });
});
