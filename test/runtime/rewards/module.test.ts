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
