/**
 * A run killed with SIGKILL while it writes checkpoints resumes from its last complete checkpoint,
 * and the steps after it equal those of a run that was never interrupted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isComplete, latestCheckpoint } from '../../../runtime/train/checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-kill-'));
const src = join(dir, 'len.rlp');
writeFileSync(src, 'import "std/grpo"\n\npipeline grpo_len extends grpo {\n  reward { reward = 0.1 * length }\n}\n');
const rewards = join(dir, 'digits.mjs');
writeFileSync(rewards, 'export function length({ completions }) { return completions.map((c) => (c.match(/[0-9]/g) ?? []).length); }\n');

const args = (out: string, extra: string[] = []) => [
  'runtime/cli/rlp.mjs', 'run', src, '--rewards', rewards, '--steps', '6', '--prompts', '2', '--set', 'group=4', '--set', 'max_tokens=5',
  '--backend', 'cpu', '--seed', '3', '--save-every', '1', '--init', 'none', '--lr', '0.01', ...(extra.length > 0 ? extra : ['--out', out]),
];

type Line = Record<string, number>;
const metrics = (out: string): Line[] =>
  readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { step_time: _, ...rest } = JSON.parse(l) as Line;
    return rest;
  });

describe('SIGKILL while checkpointing', () => {
  it('resumes from the last complete checkpoint and continues exactly', async () => {
    const a = join(dir, 'a');
    expect(spawnSync(process.execPath, args(a), { encoding: 'utf8' }).status).toBe(0);
    const b = join(dir, 'b');
    const child = spawn(process.execPath, args(b), { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Kill as soon as the third checkpoint's folder appears: mid-write or just after.
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (existsSync(join(b, 'checkpoint-3'))) {
          child.kill('SIGKILL');
          clearInterval(t);
          resolve();
        }
      }, 2);
    });
    await exited;
    const last = latestCheckpoint(b);
    expect(last).not.toBeNull();
    const k = Number(/checkpoint-(\d+)$/.exec(last!)![1]);
    expect(k).toBeGreaterThanOrEqual(2);
    expect(isComplete(last!)).toBe(true);
    const r = spawnSync(process.execPath, args(b, ['--resume', b]), { encoding: 'utf8' });
    expect(r.stderr).toContain(`resuming from ${last}`);
    expect(r.status).toBe(0);
    expect(metrics(b)).toEqual(metrics(a));
  });
});
