/** User reward modules: TRL's calling convention, extras logged, and clear errors naming the function. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRewardModule, RewardError, score } from '../../../runtime/rewards/module.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-rw-'));
const mod = join(dir, 'rewards.mjs');
writeFileSync(mod, `
export function exact({ completions, answer }) { return completions.map((c, i) => (c === answer[i] ? 1 : 0)); }
export async function graded({ completions }) { return completions.map((c) => ({ score: c.length, chars: c.length, bonus: 0.5 })); }
export function maybe({ completions }) { return completions.map((c) => (c === '' ? null : 1)); }
export function broken() { throw new Error('no network here'); }
export function short({ completions }) { return completions.slice(1).map(() => 1); }
export function wrongType({ completions }) { return completions.map(() => 'yes'); }
export const notAFunction = 3;
`);
const args = { prompts: ['1+1=', '2+2='], completions: ['2', ''], answer: ['2', '4'] };

describe('reward modules', () => {
  it('exports every function by name', async () => {
    expect([...(await loadRewardModule(mod)).keys()].sort()).toEqual(['broken', 'exact', 'graded', 'maybe', 'short', 'wrongType']);
  });

  it('scores with named columns, nulls as NaN, and extras', async () => {
    const fns = await loadRewardModule(mod);
    expect(Array.from((await score('exact', mod, fns.get('exact')!, args)).scores)).toEqual([1, 0]);
    const g = await score('graded', mod, fns.get('graded')!, args);
    expect(Array.from(g.scores)).toEqual([1, 0]);
    expect(g.extras).toEqual({ chars: [1, 0], bonus: [0.5, 0.5] });
    expect(Array.from((await score('maybe', mod, fns.get('maybe')!, args)).scores)).toEqual([1, NaN]);
  });

  it.each([
    ['broken', /reward function `broken` \(.*rewards\.mjs\) threw: no network here/],
    ['short', /`short` .* returned 1 values for 2 completions/],
    ['wrongType', /`wrongType` .* returned "yes" for completion 0/],
  ])('stops with the function named when %s misbehaves', async (name, message) => {
    const fns = await loadRewardModule(mod);
    await expect(score(name, mod, fns.get(name)!, args)).rejects.toThrow(message);
    await expect(score(name, mod, fns.get(name)!, args)).rejects.toBeInstanceOf(RewardError);
  });

  it('reports a module that cannot be loaded or exports nothing callable', async () => {
    await expect(loadRewardModule(join(dir, 'missing.mjs'))).rejects.toThrow(/could not be loaded/);
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export const x = 1;\n');
    await expect(loadRewardModule(empty)).rejects.toThrow(/exports no function/);
  });
});

describe('reward values that would be silently wrong', () => {
  const bad = join(dir, 'bad.mjs');
  writeFileSync(bad, `
export function nan({ completions }) { return completions.map((_, i) => (i === 1 ? NaN : 1)); }
export function inf({ completions }) { return completions.map((_, i) => (i === 1 ? Infinity : 1)); }
export function infScore({ completions }) { return completions.map((_, i) => ({ score: i === 1 ? -Infinity : 1 })); }
export function huge({ completions }) { return completions.map(() => 1e39); }
export function nulls({ completions }) { return completions.map(() => null); }
export function throwsString() { throw 'the grader said no'; }
export function throwsNull() { throw null; }
export function spins() { for (;;) {} }
export function never() { return new Promise(() => {}); }
`);

  it.each([
    ['nan', /`nan` .* returned NaN for completion 1 \(prompt "2\+2="\): NaN is not a score; return null for "no score"/],
    ['inf', /`inf` .* returned Infinity for completion 1 \(prompt "2\+2="\)/],
    ['infScore', /`infScore` .* returned -Infinity for completion 1/],
    ['huge', /`huge` .* returned 1e\+39 for completion 0 .*float32/],
    ['throwsString', /`throwsString` .* threw: the grader said no/],
    ['throwsNull', /`throwsNull` .* threw: null/],
  ])('stops with the function and the completion named when %s returns or throws something unusable', async (name, message) => {
    const fns = await loadRewardModule(bad);
    await expect(score(name, bad, fns.get(name)!, args)).rejects.toThrow(message);
  });

  it('keeps null as "no score"', async () => {
    const fns = await loadRewardModule(bad);
    expect(Array.from((await score('nulls', bad, fns.get('nulls')!, args)).scores)).toEqual([NaN, NaN]);
  });

  it.each([
    ['spins', 'an infinite loop'],
    ['never', 'a promise that never settles'],
  ])('cuts off %s (%s) after the timeout, naming it', async (name) => {
    const fns = await loadRewardModule(bad, { timeoutMs: 300 });
    await expect(score(name, bad, fns.get(name)!, args)).rejects.toThrow(new RegExp(`\`${name}\` .* did not return within 0\\.3 s \\(--reward-timeout\\)`));
  });

  it('cuts off a module whose loading never ends', async () => {
    const stuck = join(dir, 'stuck.mjs');
    writeFileSync(stuck, 'for (;;) {}\nexport function f() { return []; }\n');
    await expect(loadRewardModule(stuck, { loadTimeoutMs: 3000 })).rejects.toThrow(/could not be loaded: it did not finish loading within 3 s/);
  });
});

describe('the columns a reward function reads', () => {
  it('come from fn.columns and from the names it destructures', async () => {
    const { declaredColumns, destructuredNames } = await import('../../../runtime/rewards/module.js');
    expect(destructuredNames(({ completions, solution }: { completions: string[]; solution: string[] }) => [completions, solution])).toEqual(['solution']);
    expect(destructuredNames(function f({ prompts, 'gold': g, level = [], ...rest }: Record<string, unknown>) { return [prompts, g, level, rest]; })).toEqual(['gold', 'level']);
    expect(destructuredNames(async ({ completions, meta: { a } }: { completions: string[]; meta: { a: number } }) => [completions, a])).toEqual(['meta']);
    expect(destructuredNames((args: unknown) => args)).toEqual([]);
    const fn = Object.assign(({ completions, solution }: Record<string, string[]>) => [completions, solution], { columns: ['answer'] });
    expect(declaredColumns(fn as never)).toEqual(['answer', 'solution']);
  });

  it('are checked by rlp check --rewards M --data F from a destructured parameter', async () => {
    const { spawnSync } = await import('node:child_process');
    const m = join(dir, 'sol.mjs');
    writeFileSync(m, 'export function exact_solution({ completions, solution }) { return completions.map((c, i) => (c === solution[i] ? 1 : 0)); }\n');
    const data = join(dir, 'd.jsonl');
    writeFileSync(data, '{"prompt": "1+1=", "answer": "2"}\n');
    const src = join(dir, 'p.rlp');
    writeFileSync(src, 'pipeline p {\n  reward { r = exact_solution }\n  loss { minimize mean(r, over [B, G]) }\n}\n');
    const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'check', src, '--rewards', m, '--data', data], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error[RLP4014]: reward function `exact_solution` reads the column `solution`, which d.jsonl does not have');
  });
});
