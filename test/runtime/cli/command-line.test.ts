/** Problems with --set, --grad and --pipeline point at the flag on the command line, not at the batch file. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandLine } from '../../../runtime/cli/command-line.js';

function rlp(args: string[]) {
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, err: r.stderr };
}

const batch = join(mkdtempSync(join(tmpdir(), 'rlp-cl-')), 'batch.json');
writeFileSync(batch, JSON.stringify({ reward: { shape: [1, 2], data: [0, 1] } }));

describe('the command line as a source', () => {
  it('finds FLAG VALUE and FLAG=VALUE, quoting what a shell would need', () => {
    const cl = commandLine(['eval', 'grpo', '--set', 'beta=0.1', '--grad=logp', '--set', 'x=a b']);
    expect(cl.file.text).toBe("rlp eval grpo --set beta=0.1 --grad=logp --set 'x=a b'");
    const text = (s: { start: number; end: number }): string => cl.file.text.slice(s.start, s.end);
    expect(text(cl.flag('--set', 'beta=0.1'))).toBe('--set beta=0.1');
    expect(text(cl.flag('--grad', 'logp'))).toBe('--grad=logp');
    expect(text(cl.flag('--set', 'x=a b'))).toBe("--set 'x=a b'");
    expect(text(cl.flag('--set', 'missing=1'))).toBe(text(cl.all));
  });

  it('frames a bad --set of rlp eval on the command line', () => {
    const r = rlp(['eval', 'grpo', '--batch', batch, '--set', 'bta=0.1']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6006]: `bta` is not a param of `grpo`');
    expect(r.err).toMatch(/RLP6006[^\n]*\n\s+--> <command line>:1:\d+\n\s+> 1 \| rlp eval grpo --batch \S+ --set bta=0\.1\n\s+\|\s+\^{13}/);
  });

  it('frames a bad --grad of rlp eval on the command line', () => {
    const r = rlp(['eval', 'grpo', '--batch', batch, '--grad', 'lgp']);
    expect(r.err).toMatch(/error\[RLP6012\]: cannot take the gradient with respect to `lgp`[^\n]*\n\s+--> <command line>:1:\d+\n[^\n]*--grad lgp\n\s+\|\s+\^{10}/);
  });

  it('frames an unknown --pipeline of rlp eval and rlp run on the command line, exit 2', () => {
    for (const cmd of [['eval', 'pipelines/grpo_format_bonus.rlp', '--batch', batch], ['run', 'pipelines/grpo_format_bonus.rlp', '--dry-run']]) {
      const r = rlp([...cmd, '--pipeline', 'grpo_fromat_bonus']);
      expect(r.code).toBe(2);
      expect(r.err).toContain('error[RLP6031]: `--pipeline grpo_fromat_bonus`: `pipelines/grpo_format_bonus.rlp` declares no pipeline `grpo_fromat_bonus`');
      expect(r.err).toMatch(/--pipeline grpo_fromat_bonus\n\s+\|\s+\^{28}/);
      expect(r.err).toContain('help: did you mean `grpo_format_bonus`?');
    }
  });

  it('frames a bad --set of rlp run on the command line before anything runs', () => {
    const r = rlp(['run', 'grpo', '--dry-run', '--set', 'group=0']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP6030]: param `group` is set to 0, outside its range [1, 4096]');
    expect(r.err).toMatch(/> 1 \| rlp run grpo --dry-run --set group=0\n\s+\|\s+\^{13}/);
  });
});
