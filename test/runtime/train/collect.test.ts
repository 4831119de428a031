/**
 * The sample stage's extras, on an untrained policy: HBPO's prompt suffixes, DR-PO's forced dataset
 * prefixes, GHPO's hints for groups that are all wrong, SPO's Monte-Carlo prefix values. Each is
 * checked against what the rollout declares, computed here from the definition.
 */
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { lowerProgram } from '../../../runtime/exec/program.js';
import { useBackend } from '../../../runtime/backends/index.js';
import type { Runner } from '../../../runtime/policy/model.js';
import { initPolicy } from '../../../runtime/policy/params.js';
import { BOS, charTokenizer } from '../../../runtime/policy/tokenizer.js';
import type { RewardFn } from '../../../runtime/rewards/builtins.js';
import { groupRewards, hintGroups, sampleGroup, sampleGroups, scoreGroups, segmentValues, type Group, type RolloutSettings, type SampleContext } from '../../../runtime/train/collect.js';
import { defaultPolicyConfig } from '../../../runtime/train/loop.js';
import { Rng } from '../../../runtime/train/rng.js';

const tok = charTokenizer();
const program = lowerProgram(compileFiles(['stdlib/grpo.rlp']).pipelines.find((p) => p.name === 'grpo')!);
const base: RolloutSettings = {
  n: 4, temperature: 1, topP: 1, maxTokens: 6, dynamic: false, stop: '', suffixes: [], reset: 0, resetFrom: 'answer',
  hintFrom: '', hintText: ' hint:', continuations: 0, segment: 2,
};

/** A context whose only reward function is `correct` (the pipeline's reward stage reads it). */
async function context(roll: Partial<RolloutSettings>, correct: RewardFn): Promise<SampleContext> {
  const { tf, info } = await useBackend('cpu');
  const run: Runner = { tf, backend: info.name };
  const policy = initPolicy(tf, defaultPolicyConfig(), 5);
  return {
    tf, run, program, policy, rng: new Rng(9), rewards: new Map([['correct', { fn: correct, source: 'test' }]]), roll: { ...base, ...roll },
    params: new Map<string, number | boolean>([['eps', 1e-6], ['singleton_verl', false]]), tok, userError: (m) => new Error(m),
  };
}

const row = { prompt: '12+34=', answer: '1234' };
const ids = (x: Group, gi: number): number[] => Array.from(x.sample.ids.subarray(gi * x.sample.R, gi * x.sample.R + x.sample.lengths[gi]!));
const seen: { prompts: string[]; completions: string[] }[] = [];
const record: RewardFn = ({ prompts, completions }) => {
  seen.push({ prompts: [...prompts], completions: [...completions] });
  return completions.map(() => 0);
};

describe('the sample stage', () => {
  it('continues the prompt of each equal subgroup with its suffix (HBPO), forced and shown to rewards as prompt', async () => {
    const c = await context({ suffixes: ['<a>', '<bb>'] }, record);
    const x = await sampleGroup(c, row, 'prompt 0');
    expect(x.variant).toEqual([0, 0, 1, 1]);
    expect(x.forced).toEqual([3, 3, 4, 4]);
    expect(x.promptLike).toEqual([3, 3, 4, 4]);
    for (const gi of [0, 1]) expect(ids(x, gi).slice(0, 3)).toEqual([...tok.encode('<a>')]);
    for (const gi of [2, 3]) expect(ids(x, gi).slice(0, 4)).toEqual([...tok.encode('<bb>')]);
    // max_tokens counts the sampled tokens only.
    x.sample.lengths.forEach((len, gi) => expect(len - x.forced[gi]!).toBeLessThanOrEqual(6));
    expect(x.prompt[0]).toBe(BOS);
    seen.length = 0;
    await scoreGroups(c, [x]);
    expect(seen[0]!.prompts).toEqual(['12+34=<a>', '12+34=<a>', '12+34=<bb>', '12+34=<bb>']);
    expect(seen[0]!.completions).toEqual([0, 1, 2, 3].map((gi) => tok.decode(ids(x, gi).slice(x.forced[gi]!))));
  });

  it('forces a random-length prefix of the reference on reset samples (DR-PO), part of the completion', async () => {
    const c = await context({ n: 8, reset: 1 }, record);
    const x = await sampleGroup(c, row, 'prompt 0');
    const lengths = new Set<number>();
    for (let gi = 0; gi < 8; gi++) {
      const k = x.forced[gi]!;
      expect(k).toBeGreaterThanOrEqual(1);
      expect(k).toBeLessThanOrEqual(3);
      expect(tok.decode(ids(x, gi).slice(0, k))).toBe('1234'.slice(0, k));
      lengths.add(k);
    }
    expect(lengths.size).toBeGreaterThan(1);
    expect(x.promptLike).toEqual(new Array(8).fill(0));
    seen.length = 0;
    await scoreGroups(c, [x]);
    for (let gi = 0; gi < 8; gi++) expect(seen[0]!.completions[gi]!.startsWith('1234'.slice(0, x.forced[gi]!))).toBe(true);
    const none = await sampleGroup(await context({ n: 8, reset: 0 }, record), row, 'prompt 0');
    expect(none.forced).toEqual(new Array(8).fill(0));
  });

  it('samples an all-wrong group again with 25%, 50%, 75% of the hint column until one is right (GHPO)', async () => {
    // Right only when the prompt carries half of the answer: the first hint (" hint:1") is not enough.
    const half: RewardFn = ({ prompts }) => prompts.map((p) => (p.endsWith(' hint:12') ? 1 : 0));
    const c = await context({ hintFrom: 'answer' }, half);
    const groups = [await sampleGroup(c, row, 'prompt 0'), await sampleGroup(c, { prompt: '5+5=', answer: '10' }, 'prompt 1')];
    await scoreGroups(c, groups);
    expect(await hintGroups(c, groups, (i) => `prompt ${i}`)).toBe(2);
    // "1234": level 2 reveals "12" and is right. "10": 25% and 50% both reveal "1", 75% "10": never right, so level 3 stays.
    expect(groups.map((x) => x.hintLevel)).toEqual([2, 3]);
    expect(tok.decode(ids(groups[0]!, 0).slice(0, groups[0]!.promptLike[0]!))).toBe(' hint:12');
    expect(tok.decode(ids(groups[1]!, 0).slice(0, groups[1]!.promptLike[0]!))).toBe(' hint:10');
    expect(Array.from(await groupRewards(c, groups))).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    // A group with a right answer is left alone.
    const always: RewardFn = ({ completions }) => completions.map((_, i) => (i === 0 ? 1 : 0));
    const c2 = await context({ hintFrom: 'answer' }, always);
    const kept = [await sampleGroup(c2, row, 'prompt 0')];
    await scoreGroups(c2, kept);
    expect(await hintGroups(c2, kept, () => 'prompt 0')).toBe(0);
    expect(kept[0]!.hintLevel).toBe(0);
  });

  it('values each prefix by the mean reward of its continuations (SPO), per segment of every completion', async () => {
    // The reward depends only on the first sampled character, which every cut's prefix fixes: the
    // value of any prefix of a completion is exactly its reward.
    const first: RewardFn = ({ completions }) => completions.map((t) => (t.length > 0 && t[0]! < '5' ? 1 : 0));
    const c = await context({ n: 6, continuations: 3, segment: 2, maxTokens: 7, temperature: 2 }, first);
    const groups = [await sampleGroup(c, row, 'prompt 0'), await sampleGroup(c, { prompt: '1+1=', answer: '2' }, 'prompt 1')];
    await scoreGroups(c, groups);
    const reward = await groupRewards(c, groups);
    const R = Math.max(...groups.map((x) => x.sample.R));
    const v = await segmentValues(c, groups, reward, R);
    let cuts = 0;
    groups.forEach((x, b) => {
      const mean = Array.from(reward.subarray(b * 6, b * 6 + 6)).reduce((a, r) => a + r, 0) / 6;
      for (let gi = 0; gi < 6; gi++) {
        const n = x.sample.lengths[gi]!;
        cuts += Math.max(0, Math.ceil(n / 2) - 1);
        for (let t = 0; t < R; t++) {
          const at = (b * 6 + gi) * R + t;
          const r = reward[b * 6 + gi]!;
          if (t >= n) {
            expect([v.start[at], v.end[at]]).toEqual([0, 0]);
            continue;
          }
          // Tokens 0-1 form the first segment: it starts from the group's mean reward.
          expect(v.start[at]).toBeCloseTo(t < 2 ? mean : r, 6);
          expect(v.end[at]).toBeCloseTo(r, 6);
        }
      }
    });
    expect(v.sampled).toBe(cuts * 3);
    expect(cuts).toBeGreaterThan(0);
  });

  it('values a prefix by the mean of continuations that differ (SPO), between the rewards they can take', async () => {
    // A reward of the completion's length: continuations from a cut are at least as long as it.
    const length: RewardFn = ({ completions }) => completions.map((t) => t.length);
    const c = await context({ n: 4, continuations: 4, segment: 3, maxTokens: 9, temperature: 3 }, length);
    const x = await sampleGroup(c, row, 'prompt 0');
    await scoreGroups(c, [x]);
    const reward = await groupRewards(c, [x]);
    const v = await segmentValues(c, [x], reward, x.sample.R);
    for (let gi = 0; gi < 4; gi++) {
      const n = x.sample.lengths[gi]!;
      for (let u = 3; u < n; u += 3) {
        const at = gi * x.sample.R + u;
        // The value at cut u (start of the segment holding token u) lies between u and max_tokens characters.
        expect(v.start[at]).toBeGreaterThanOrEqual(u - 1);
        expect(v.start[at]).toBeLessThanOrEqual(9);
        expect(v.end[at - 1]).toBe(v.start[at]);
      }
    }
  });

  it('samples several rows in one batched decode: one row as sampleGroup does, each group whole, suffixes forced', async () => {
    const one = await sampleGroup(await context({}, record), row, 'prompt 0');
    const [batched] = await sampleGroups(await context({}, record), [row], (i) => `prompt ${i}`);
    expect(Array.from(batched!.sample.ids)).toEqual(Array.from(one.sample.ids));
    expect(batched!.sample.lengths).toEqual(one.sample.lengths);
    const rows = [row, { prompt: '5+5=', answer: '10' }, { prompt: '123+4=', answer: '127' }];
    const c = await context({ suffixes: ['<a>', '<bb>'] }, record);
    const groups = await sampleGroups(c, rows, (i) => `prompt ${i}`);
    expect(groups.map((x) => x.row)).toEqual(rows);
    for (const [b, x] of groups.entries()) {
      expect(Array.from(x.prompt)).toEqual([BOS, ...tok.encode(String(rows[b]!.prompt))]);
      expect(x.forced).toEqual([3, 3, 4, 4]);
      for (const gi of [0, 1]) expect(ids(x, gi).slice(0, 3)).toEqual([...tok.encode('<a>')]);
      for (const gi of [2, 3]) expect(ids(x, gi).slice(0, 4)).toEqual([...tok.encode('<bb>')]);
      x.sample.lengths.forEach((len, gi) => expect(len - x.forced[gi]!).toBeLessThanOrEqual(6));
    }
    const again = await sampleGroups(await context({ suffixes: ['<a>', '<bb>'] }, record), rows, (i) => `prompt ${i}`);
    expect(again.map((x) => Array.from(x.sample.ids))).toEqual(groups.map((x) => Array.from(x.sample.ids)));
  });
});
