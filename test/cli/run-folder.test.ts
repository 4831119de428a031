/**
 * The run folder through the CLI, with real processes: corruption of every kind is skipped on
 * resume (and named), locks and reuse are refused, failed starts leave nothing, a full disk is a
 * user error that resumes exactly, and a resumed run keeps its config.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, metricsOf, rlpSync } from '../helpers/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-folder-'));
const tiny = ['--prompts', '1', '--set', 'group=2', '--set', 'max_tokens=4', '--backend', 'cpu', '--init', 'none', '--seed', '5', '--lr', '0.01', '--save-every', '1'];
const reference = join(dir, 'reference');
let referenceMetrics: Record<string, unknown>[] = [];

beforeAll(() => {
  buildCli();
  const r = rlpSync(['run', 'grpo', '--steps', '4', '--out', reference, ...tiny]);
  if (r.code !== 0) throw new Error(r.err);
  referenceMetrics = metricsOf(reference);
}, 300_000);

/** A copy of the reference run, to corrupt. */
function copyOf(name: string): string {
  const to = join(dir, name);
  spawnSync('cp', ['-r', reference, to]);
  return to;
}

const deadPid = (): number => spawnSync('true').pid!;

function longPrompts(): string {
  const f = join(dir, 'long.jsonl');
  writeFileSync(f, [{ prompt: '1+1=', answer: '2' }, { prompt: '1+'.repeat(100), answer: '0' }].map((r) => JSON.stringify(r)).join('\n') + '\n');
  return f;
}

describe('resuming a damaged run folder', () => {
  it('skips every kind of corruption, says what it skipped, and continues exactly', { timeout: 300_000 }, () => {
    const run = copyOf('damaged');
    rmSync(join(run, 'checkpoint-4', 'manifest.json'));
    const m3 = join(run, 'checkpoint-3', 'manifest.json');
    writeFileSync(m3, readFileSync(m3, 'utf8').replace(/"sha256": "[0-9a-f]{6}/, '"sha256": "000000'));
    const w2 = join(run, 'checkpoint-2', 'weights.msgpack');
    truncateSync(w2, 1000);
    appendFileSync(join(run, 'metrics.jsonl'), '{"step": 5, "loss": 0.12');
    writeFileSync(join(run, 'rlp.lock'), JSON.stringify({ pid: deadPid(), host: require('node:os').hostname() }));
    const r = rlpSync(['run', 'grpo', '--resume', run, '--steps', '4', '--backend', 'cpu']);
    expect(r.err).toMatch(/skipping checkpoint-4: no manifest\.json/);
    expect(r.err).toMatch(/skipping checkpoint-3: \S+ does not match the SHA-256 in its manifest/);
    expect(r.err).toMatch(/skipping checkpoint-2: weights\.msgpack has 1000 bytes, its manifest says \d+ \(truncated\?\)/);
    expect(r.err).toMatch(/dropping the torn last line 5 of .*metrics\.jsonl/);
    expect(r.err).toMatch(/removing a stale lock of pid \d+/);
    expect(r.err).toContain(`resuming from ${join(run, 'checkpoint-1')} at step 1`);
    expect(r.code).toBe(0);
    expect(metricsOf(run)).toEqual(referenceMetrics);
    expect(existsSync(join(run, 'rlp.lock'))).toBe(false);
  });

  it('refuses a folder locked by a live run, naming its pid', { timeout: 120_000 }, () => {
    const run = copyOf('locked');
    writeFileSync(join(run, 'rlp.lock'), JSON.stringify({ pid: process.pid, host: require('node:os').hostname() }));
    const r = rlpSync(['run', 'grpo', '--resume', run, '--steps', '5', '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`is in use by another rlp run (pid ${process.pid}`);
    expect(metricsOf(run)).toEqual(referenceMetrics);
  });
});

describe('a run folder is never clobbered', () => {
  it('refuses to reuse a folder that holds a run without --resume, keeping its metrics', { timeout: 120_000 }, () => {
    const run = copyOf('reused');
    const r = rlpSync(['run', 'grpo', '--steps', '2', '--out', run, ...tiny]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`--out ${run} already holds a run: continue it with --resume`);
    expect(metricsOf(run)).toEqual(referenceMetrics);
  });

  it('keeps the config of a resumed run: another pipeline, param, lr or seed is an error naming both values', { timeout: 120_000 }, () => {
    const run = copyOf('conflict');
    const before = readFileSync(join(run, 'config.json'), 'utf8');
    const dapo = rlpSync(['run', 'dapo', '--resume', run, '--steps', '5', '--backend', 'cpu']);
    expect(dapo.code).toBe(2);
    expect(dapo.err).toMatch(/is a run of `grpo` .*`dapo` .* conflicts with it/);
    const flags = rlpSync(['run', 'grpo', '--resume', run, '--steps', '5', '--backend', 'cpu', '--lr', '0.02']);
    expect(flags.code).toBe(2);
    expect(flags.err).toContain('the run was started with --lr 0.01; --lr "0.02" conflicts with it');
    const set = rlpSync(['run', 'grpo', '--resume', run, '--steps', '5', '--set', 'clip_high=0.5']);
    expect(set.code).toBe(2);
    expect(set.err).toContain('the run was started with no --set clip_high; --set clip_high=0.5 conflicts with it');
    expect(readFileSync(join(run, 'config.json'), 'utf8')).toBe(before);
  });
});

describe('failed starts leave nothing behind', () => {
  it.each([
    ['--init nope', ['--init', 'nope'], /--init: .*nope does not exist/],
    ['--backend tensorflow', ['--backend', 'tensorflow'], /tensorflow|tfjs-node/],
    ['--set eps=1e999', ['--set', 'eps=1e999'], /param `eps` is `float`, but `1e999` is not a number/],
    ['--set temperature=-1', ['--set', 'temperature=-1'], /temperature/],
    ['--set group=100000000', ['--set', 'group=100000000'], /param `group` is set to 100000000, outside its range \[1, 4096\]/],
    ['--dry-run with a prompt longer than the context', ['--dry-run', '--data', longPrompts()], /row 2's prompt is 201 tokens \(with its start token\); with max_tokens = \d+, the policy's context of 96 tokens leaves \d+ for a prompt/],
  ])('%s', { timeout: 120_000 }, (_, extra, message) => {
    const out = join(dir, `debris-${extra.join('')}`);
    const r = rlpSync(['run', 'grpo', '--steps', '2', '--out', out, '--prompts', '1', '--set', 'group=2', '--backend', 'cpu', '--init', 'none', ...extra]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('--resume of a missing folder, and --out that cannot be a folder, are refused without creating anything', { timeout: 120_000 }, () => {
    const gone = join(dir, 'gone');
    expect(rlpSync(['run', 'grpo', '--resume', gone]).code).toBe(2);
    expect(existsSync(gone)).toBe(false);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    for (const [out, message] of [[file, 'is not a folder'], ['', 'is empty'], ['/dev/null', 'is not a folder'], ['/proc/x/y', '']] as const) {
      const r = rlpSync(['run', 'grpo', '--steps', '1', '--out', out, ...tiny]);
      expect(r.code, `--out ${out}`).toBe(1);
      expect(r.err).toContain(message);
      expect(r.err).not.toMatch(/RLP9001|internal error/);
    }
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('a full disk', () => {
  const mnt = join(dir, 'small-disk');
  let mounted = false;
  afterAll(() => {
    if (mounted) spawnSync('umount', [mnt]);
  });

  it('stops with exit 1 naming the problem, keeps the last complete checkpoint, and resumes exactly after space is freed', { timeout: 300_000 }, () => {
    mkdirSync(mnt);
    // A real ENOSPC on a small tmpfs where we may mount one (root); else a file-size limit (EFBIG).
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1400k', 'tmpfs', mnt]).status === 0;
    const out = join(mnt, 'run');
    const r = rlpSync(['run', 'grpo', '--steps', '4', '--out', out, ...tiny], mounted ? {} : { shell: 'ulimit -f 1200' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(mounted ? /no space left on the device \(ENOSPC\)/ : /larger than this process may write \(EFBIG\)/);
    expect(r.err).not.toMatch(/RLP9001|internal error/);
    const left = readdirSync(out, { recursive: true }).map(String);
    expect(left.filter((f) => f.includes('.tmp-'))).toEqual([]);
    if (mounted) spawnSync('mount', ['-o', 'remount,size=16m', mnt]);
    const resumed = rlpSync(['run', 'grpo', '--resume', out, '--steps', '4', '--backend', 'cpu']);
    expect(resumed.code).toBe(0);
    expect(metricsOf(out)).toEqual(referenceMetrics);
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(sha(join(out, 'checkpoint-4', 'weights.msgpack'))).toBe(sha(join(reference, 'checkpoint-4', 'weights.msgpack')));
  });
});

describe('resuming a run on a dataset', () => {
  it('continues from the data cursor, with the original seed, to bit-identical weights', { timeout: 300_000 }, () => {
    const data = join(dir, 'rows.jsonl');
    writeFileSync(data, Array.from({ length: 7 }, (_, i) => JSON.stringify({ prompt: `${i}+${i + 1}=`, answer: String(2 * i + 1) })).join('\n') + '\n');
    const args = ['--data', data, '--prompts', '2', '--set', 'group=2', '--set', 'max_tokens=4', '--backend', 'cpu', '--init', 'none', '--seed', '9', '--lr', '0.01', '--save-every', '1'];
    const whole = join(dir, 'data-whole');
    expect(rlpSync(['run', 'grpo', '--steps', '3', '--out', whole, ...args]).code).toBe(0);
    const part = join(dir, 'data-part');
    expect(rlpSync(['run', 'grpo', '--steps', '2', '--out', part, ...args]).code).toBe(0);
    // Neither --data nor --seed again: both come from the run's config.json.
    const r = rlpSync(['run', 'grpo', '--resume', part, '--steps', '3', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(metricsOf(part)).toEqual(metricsOf(whole));
    expect(readFileSync(join(part, 'checkpoint-3', 'weights.msgpack')).equals(readFileSync(join(whole, 'checkpoint-3', 'weights.msgpack')))).toBe(true);
    expect(JSON.parse(readFileSync(join(part, 'checkpoint-3', 'state.json'), 'utf8')).cursor).toBe(6);
  });
});
