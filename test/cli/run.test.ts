/** `rlp run` on bad data and misbehaving reward modules: clear messages, exit 1, nothing written is lost. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'rlp-run-'));
const file = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const common = ['--steps', '4', '--prompts', '2', '--set', 'group=2', '--set', 'max_tokens=4', '--backend', 'cpu', '--init', 'none'];
function rlp(args: string[]) {
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(r.stderr).not.toMatch(/\n\s+at \S+ \(/);
  return { code: r.status, err: r.stderr };
}

describe('rlp run on bad input', () => {
  it('trains from a JSONL dataset in TRL format', () => {
    const data = file('ok.jsonl', ['1+2=', '3+4=', '5+5='].map((p, i) => JSON.stringify({ prompt: p, answer: String([3, 7, 10][i]) })).join('\n') + '\n');
    const out = join(dir, 'ok');
    const r = rlp(['run', 'grpo', '--data', data, '--out', out, ...common]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it.each([
    ['malformed.jsonl', '{"prompt": "1+1=", "answer": "2"}\n{"prompt": "2+2=", "answer": "4",}\n', /malformed\.jsonl:2: not valid JSON/],
    ['nocolumn.jsonl', '{"prompt": "1+1=", "answer": "2"}\n{"prompt": "2+2="}\n', /RLP4014\]: reward function `correct` reads the column `answer`, which nocolumn\.jsonl lacks in some rows[\s\S]*grpo\.rlp:\d+:\d+[\s\S]*the first row without it is line 2/],
    ['empty.jsonl', '', /empty\.jsonl: the file is empty/],
    ['pref.jsonl', '{"prompt": "q", "chosen": "a", "rejected": "b"}\n', /holds preference rows/],
  ])('stops before training on %s, naming the file and line', (name, text, message) => {
    const out = join(dir, `bad-${name}`);
    const r = rlp(['run', 'grpo', '--data', file(name, text), '--out', out, ...common]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(existsSync(join(out, 'latest'))).toBe(false);
  });

  it('stops at the step whose reward function throws, keeping what earlier steps wrote', () => {
    const src = file('len.rlp', 'import "std/grpo"\n\npipeline grpo_len extends grpo {\n  reward { reward = length }\n}\n');
    const mod = file('flaky.mjs', 'let calls = 0;\nexport function length({ completions }) {\n  if (++calls === 3) throw new Error("the grader is down");\n  return completions.map((c) => c.length);\n}\n');
    const out = join(dir, 'flaky');
    const r = rlp(['run', src, '--rewards', mod, '--out', out, '--save-every', '1', ...common]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/reward function `length` \(.*flaky\.mjs\) threw: the grader is down/);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(readFileSync(join(out, 'latest'), 'utf8').trim()).toBe('checkpoint-2');
  });

  it('names a reward function that returns the wrong number of values', () => {
    const src = file('len2.rlp', 'import "std/grpo"\n\npipeline grpo_len extends grpo {\n  reward { reward = length }\n}\n');
    const mod = file('short.mjs', 'export function length({ completions }) { return completions.slice(1).map(() => 1); }\n');
    const r = rlp(['run', src, '--rewards', mod, '--out', join(dir, 'short'), ...common]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/reward function `length` \(.*short\.mjs\) returned 3 values for 4 completions/);
  });

  it('refuses contradictory or malformed flags as usage errors', () => {
    expect(rlp(['run', 'grpo', '--task', 'arithmetic', '--data', 'x.jsonl']).code).toBe(2);
    expect(rlp(['run', 'grpo', '--task', 'chess']).code).toBe(2);
    expect(rlp(['run', 'grpo', '--steps', '0']).code).toBe(2);
    const size = rlp(['run', 'grpo', '--task-size', '-1']);
    expect(size.code).toBe(2);
    expect(size.err).toContain('--task-size takes an integer in [0, 10000000], found `-1`');
  });
});

describe('reward functions from a module, named in the reward stage', () => {
  it('are checked against the module: unknown without it, clean with it, and trained with', () => {
    const src = file('digits.rlp', 'import "std/grpo"\n\npipeline grpo_digits extends grpo {\n  reward { reward = digits }\n}\n');
    const mod = file('digits.mjs', 'export function digits({ completions }) { return completions.map((c) => (c.match(/[0-9]/g) ?? []).length); }\n');
    const without = rlp(['check', src]);
    expect(without.code).toBe(1);
    expect(without.err).toContain('error[RLP2008]: unknown name `digits`');
    expect(rlp(['check', '--rewards', mod, src]).code).toBe(0);
    expect(rlp(['check', '--rewards', file('none.mjs', 'export const x = 1;\n'), src]).err).toMatch(/exports no function/);
    const out = join(dir, 'digits');
    expect(rlp(['run', src, '--rewards', mod, '--out', out, ...common]).code).toBe(0);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).toContain('rewards/digits/mean');
  });

  it('must find the columns they read in the data, at compile time, with the reward named at its span', () => {
    const src = file('sol.rlp', 'import "std/grpo"\n\npipeline grpo_sol extends grpo {\n  reward { reward = solved }\n}\n');
    const mod = file('sol.mjs', 'export function solved({ completions, solution }) { return completions.map((c, i) => (c.trim() === solution[i] ? 1 : 0)); }\nsolved.columns = ["solution"];\n');
    const good = file('sol.jsonl', '{"prompt": "1+1=", "solution": "2"}\n{"prompt": "2+2=", "solution": "4"}\n');
    const bad = file('nosol.jsonl', '{"prompt": "1+1=", "answer": "2"}\n');
    expect(rlp(['check', src, '--rewards', mod, '--data', good]).code).toBe(0);
    const c = rlp(['check', src, '--rewards', mod, '--data', bad]);
    expect(c.code).toBe(1);
    expect(c.err).toContain('error[RLP4014]: reward function `solved` reads the column `solution`, which nosol.jsonl does not have');
    expect(c.err).toMatch(/sol\.rlp:4:21/);
    expect(c.err).toContain('the columns of every row: answer, prompt');
    // The built-in task has prompt, answer and format: `solved` cannot train on it.
    const out = join(dir, 'sol-task');
    const r = rlp(['run', src, '--rewards', mod, '--out', out, ...common]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('which the built-in task arithmetic does not have');
    expect(existsSync(join(out, 'metrics.jsonl'))).toBe(false);
    expect(rlp(['run', src, '--rewards', mod, '--data', good, '--out', join(dir, 'sol-ok'), ...common]).code).toBe(0);
  });
});

describe('non-finite values never reach the weights', () => {
  it.each([
    ['Infinity', 'completions.map(() => Infinity)', /reward function `bonus` \(.*inf-\w+\.mjs\) returned Infinity for completion 0 \(prompt "/],
    ['{score: Infinity}', 'completions.map(() => ({ score: Infinity }))', /`bonus` .* returned Infinity for completion 0/],
    ['NaN', 'completions.map(() => NaN)', /`bonus` .* returned NaN for completion 0 .*return null for "no score"/],
  ])('a reward of %s stops the run (exit 1) naming the function and completion, writing no checkpoint', (name, body, message) => {
    const src = file('bonus.rlp', 'import "std/grpo"\n\npipeline grpo_bonus extends grpo {\n  reward { reward = bonus }\n}\n');
    const mod = file(`inf-${name.replace(/\W/g, '')}.mjs`, `export function bonus({ completions }) { return ${body}; }\n`);
    const out = join(dir, `nonfinite-${name.replace(/\W/g, '')}`);
    const r = rlp(['run', src, '--rewards', mod, '--out', out, ...common]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(existsSync(join(out, 'latest'))).toBe(false);
  });

  it('refuses --lr Infinity, --lr 1e300 and --seed abc as usage errors', () => {
    for (const args of [['--lr', 'Infinity'], ['--lr', '1e300'], ['--seed', 'abc']]) {
      const r = rlp(['run', 'grpo', ...args, '--out', join(dir, 'never')]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(`${args[0]} takes`);
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('warns, and marks the metrics, when rewards are too large for float32 to square (every advantage would be 0)', () => {
    const src = file('big.rlp', 'import "std/grpo"\n\npipeline grpo_big extends grpo {\n  reward { reward = big }\n}\n');
    const mod = file('big.mjs', 'export function big({ completions }) { return completions.map((c, i) => (i % 2) * 1e30); }\n');
    const out = join(dir, 'big');
    const r = rlp(['run', src, '--rewards', mod, '--out', out, ...common, '--steps', '1']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: step 1: a reward of magnitude 1\.00e\+30 overflows float32 when squared/);
    const m = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim()) as Record<string, number>;
    expect(m['rewards/overflow']).toBe(1);
    expect(m['no_update']).toBe(1);
  });

  it('cuts off a reward function that never returns after --reward-timeout, naming it', () => {
    const src = file('spin.rlp', 'import "std/grpo"\n\npipeline grpo_spin extends grpo {\n  reward { reward = spin }\n}\n');
    const mod = file('spin.mjs', 'export function spin() { for (;;) {} }\n');
    const r = rlp(['run', src, '--rewards', mod, '--reward-timeout', '1', '--out', join(dir, 'spin'), ...common]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/reward function `spin` \(.*spin\.mjs\) did not return within 1 s \(--reward-timeout\)/);
  });
});
