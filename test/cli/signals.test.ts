/**
 * Ctrl-C and SIGTERM during `rlp run`, with real processes and real signals: the step finishes, a
 * checkpoint is saved and the run exits 130 (SIGINT) or 143 (SIGTERM); a second Ctrl-C exits at
 * once. An interrupted run resumed without its original flags continues exactly.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli, metricsOf, rlpSignalled, rlpSync } from '../helpers/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-signals-'));
const tiny = ['--prompts', '1', '--set', 'group=2', '--set', 'max_tokens=4', '--backend', 'cpu', '--init', 'none', '--lr', '0.01'];
const lines = (out: string) => metricsOf(out).length;

beforeAll(() => buildCli());

describe('signals during rlp run', () => {
  it('SIGINT finishes the step, checkpoints and exits 130; resuming without --seed or --init continues exactly', { timeout: 300_000 }, async () => {
    const whole = join(dir, 'whole');
    expect(rlpSync(['run', 'grpo', '--steps', '4', '--seed', '3', '--save-every', '100', '--out', whole, ...tiny]).code).toBe(0);
    const part = join(dir, 'part');
    const r = await rlpSignalled(['run', 'grpo', '--steps', '4', '--seed', '3', '--save-every', '100', '--out', part, ...tiny], () => lines(part) >= 1, ['SIGINT']);
    expect(r.code).toBe(130);
    expect(r.err).toContain('interrupted (SIGINT): finishing this step and saving a checkpoint');
    const k = lines(part);
    expect(k).toBeLessThan(4);
    expect(readFileSync(join(part, 'latest'), 'utf8').trim()).toBe(`checkpoint-${k}`);
    // Only --resume (and --steps): seed, init, prompts and params come from the run's config.json.
    const resumed = rlpSync(['run', 'grpo', '--resume', part, '--steps', '4', '--backend', 'cpu']);
    expect(resumed.err).toContain(`resuming from ${join(part, `checkpoint-${k}`)}`);
    expect(resumed.code).toBe(0);
    expect(metricsOf(part)).toEqual(metricsOf(whole));
    expect(readFileSync(join(part, 'checkpoint-4', 'weights.msgpack')).equals(readFileSync(join(whole, 'checkpoint-4', 'weights.msgpack')))).toBe(true);
  });

  it('SIGTERM saves a checkpoint and exits 143', { timeout: 300_000 }, async () => {
    const out = join(dir, 'term');
    const r = await rlpSignalled(['run', 'grpo', '--steps', '200', '--save-every', '100', '--out', out, ...tiny], () => lines(out) >= 1, ['SIGTERM']);
    expect(r.code).toBe(143);
    expect(readFileSync(join(out, 'latest'), 'utf8').trim()).toBe(`checkpoint-${lines(out)}`);
    expect(lines(out)).toBeLessThan(200);
  });

  it('a second Ctrl-C exits at once with 130, without finishing the run', { timeout: 300_000 }, async () => {
    const out = join(dir, 'twice');
    // Long samples (most of a step), and signals as soon as the run has started (metrics.jsonl
    // exists), so that both arrive inside the first step.
    const long = ['--steps', '200', '--save-every', '100', '--out', out, '--prompts', '2', '--set', 'group=8', '--set', 'max_tokens=60', '--backend', 'cpu', '--init', 'none'];
    const r = await rlpSignalled(['run', 'grpo', ...long], () => existsSync(join(out, 'metrics.jsonl')), ['SIGINT', 'SIGINT']);
    expect(r.code).toBe(130);
    expect(r.err).toContain('SIGINT again: stopping now');
    expect(r.err).not.toContain('stopped after step');
    expect(lines(out)).toBe(0);
    expect(existsSync(join(out, 'latest'))).toBe(false);
    expect(existsSync(join(out, 'rlp.lock'))).toBe(false);
  });
});
