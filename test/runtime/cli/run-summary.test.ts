/** rlp run says first where it writes and which policy it starts from (the warm start for --data that fits), and ends with a summary. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstUnencodable, summary } from '../../../runtime/cli/run-summary.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-sum-'));
const data = join(dir, 'd.jsonl');
writeFileSync(data, '{"prompt": "1+2=", "answer": "3"}\n{"prompt": "2+2=", "answer": "4"}\n');
const foreign = join(dir, 'f.jsonl');
writeFileSync(foreign, '{"prompt": "1+2=", "answer": "3"}\n{"prompt": "2×2=", "answer": "4"}\n');

function rlp(args: string[]) {
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: '1' } });
  return { code: r.status, lines: r.stderr.trim().split('\n') };
}

describe('the first and last lines of rlp run', () => {
  it('finds the first character a dataset holds that the tokenizer lacks', () => {
    expect(firstUnencodable(data)).toBeNull();
    expect(firstUnencodable(foreign)).toBe('×');
  });

  it('--data that fits the warm start\'s tokenizer starts from the warm start, said first (--dry-run too)', () => {
    const r = rlp(['run', 'grpo', '--data', data, '--dry-run', '--out', join(dir, 'dry')]);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatch(new RegExp(`^rlp run grpo: writing to ${join(dir, 'dry')}; policy: \\S*runtime/policy/pretrained/arithmetic \\(the shipped warm start, whose tokenizer fits`));
  });

  it('--data that does not fit, and --init none, start from random weights and say so', () => {
    expect(rlp(['run', 'grpo', '--data', foreign, '--dry-run', '--out', join(dir, 'dry2')]).lines[0]).toContain('policy: random weights (seed 0) (');
    expect(rlp(['run', 'grpo', '--init', 'none', '--dry-run', '--out', join(dir, 'dry3')]).lines[0]).toContain('policy: random weights (seed 0) (--init none)');
  });

  it('ends a run with a summary: steps, time, reward first and last, checkpoint, metrics, config and report', () => {
    const out = join(dir, 'run');
    const r = rlp(['run', 'grpo', '--data', data, '--steps', '2', '--prompts', '2', '--set', 'group=2', '--set', 'max_tokens=3', '--backend', 'cpu', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toContain(`writing to ${out}`);
    const tail = r.lines.slice(-5);
    expect(tail[0]).toMatch(/^done: 2 steps \(1\.\.2\) in [\d.]+ s; reward [\d.]+ over the first 2, [\d.]+ over the last 2$/);
    expect(tail.slice(1)).toEqual([`  checkpoint: ${join(out, 'checkpoint-2')}`, `  metrics:    ${join(out, 'metrics.jsonl')}`, `  config:     ${join(out, 'config.json')}`, `  report:     ${join(out, 'report.html')}`]);
  });

  it('summarizes preference runs by accuracy', () => {
    const s = summary(join(dir, 'none'), [{ step: 1, 'rewards/accuracies': 0.5, step_time: 1 }, { step: 2, 'rewards/accuracies': 1, step_time: 2 }]);
    expect(s.split('\n')[0]).toBe('done: 2 steps (1..2) in 3.0 s; rewards/accuracies 0.750 over the first 2, 0.750 over the last 2');
  });
});
