/** Sample completions recorded for the report: advantages per completion, rows of groups and pairs, resume. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { charTokenizer } from '../../../runtime/policy/tokenizer.js';
import type { Group } from '../../../runtime/train/collect.js';
import { appendSamples, completionAdvantage, groupSamples, keepSamplesUpTo, pairSamples, SAMPLE_GROUPS, type SampleRow } from '../../../runtime/train/samples.js';

describe('completionAdvantage', () => {
  const mask = Float32Array.from([1, 1, 0, 1, 0, 0]);
  it('reads [B,G] directly, [B] per prompt, and [B,G,T] as the mean over the mask', () => {
    expect(completionAdvantage({ values: Float32Array.from([0.5, -0.5]), dims: ['B', 'G'] }, 0, 1, 2, 3, mask)).toBe(-0.5);
    expect(completionAdvantage({ values: Float32Array.from([2]), dims: ['B'] }, 0, 1, 2, 3, mask)).toBe(2);
    expect(completionAdvantage({ values: Float32Array.from([1, 3, 100, 4, 100, 100]), dims: ['B', 'G', 'T'] }, 0, 0, 2, 3, mask)).toBe(2);
    expect(completionAdvantage({ values: Float32Array.from([1, 3, 100, 4, 100, 100]), dims: ['B', 'G', 'T'] }, 0, 1, 2, 3, mask)).toBe(4);
    expect(completionAdvantage(null, 0, 0, 2, 3, mask)).toBe(null);
  });
});

describe('sample rows', () => {
  const tok = charTokenizer();
  const group = (prompt: string, texts: string[]): Group => {
    const ids = texts.map((t) => [...tok.encode(t)]);
    const R = Math.max(...ids.map((x) => x.length));
    const flat = new Int32Array(texts.length * R);
    ids.forEach((x, i) => flat.set(x, i * R));
    return { row: { prompt }, prompt: Int32Array.from([]), sample: { ids: flat, lengths: ids.map((x) => x.length), R }, forced: [0, 0], promptLike: [0, 0], variant: [0, 0], hintLevel: 0, scores: { correct: Float64Array.from([1, 0]) }, extras: {} } as unknown as Group;
  };

  it('records the first groups of a step with their texts, rewards and advantages', () => {
    const groups = [group('1+1=', ['2', '3']), group('2+2=', ['4', '44']), group('3+3=', ['6', '7'])];
    const rows = groupSamples(5, groups, tok, Float32Array.from([1, 0, 1, 0, 1, 0]), { values: Float32Array.from([0.7, -0.7, 0.7, -0.7, 0.7, -0.7]), dims: ['B', 'G'] }, new Float32Array(12).fill(1), 2, 2);
    expect(rows.length).toBe(SAMPLE_GROUPS * 2);
    expect(rows[1]).toMatchObject({ step: 5, group: 0, prompt: '1+1=', completion: '3', reward: 0, rewards: { correct: 0 } });
    expect(rows[1]!.advantage).toBeCloseTo(-0.7, 6);
    expect(rows[3]!.completion).toBe('44');
  });

  it('records preference pairs as chosen and rejected with their implicit rewards', () => {
    const rows = pairSamples(1, [{ prompt: 'p', chosen: 'good', rejected: 'bad' }], (s) => (s === 0 ? 0.3 : -0.2));
    expect(rows).toEqual([
      { step: 1, group: 0, prompt: 'p', completion: 'good', reward: 0.3, advantage: null, rewards: {}, role: 'chosen' },
      { step: 1, group: 0, prompt: 'p', completion: 'bad', reward: -0.2, advantage: null, rewards: {}, role: 'rejected' },
    ]);
  });

  it('appends to samples.jsonl and drops the steps a resumed run redoes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlp-samples-'));
    const row = (step: number): SampleRow => ({ step, group: 0, prompt: 'p', completion: 'c', reward: 1, advantage: 0, rewards: {} });
    appendSamples(dir, [row(1), row(2), row(3)]);
    keepSamplesUpTo(dir, 2);
    const steps = readFileSync(join(dir, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as SampleRow).step);
    expect(steps).toEqual([1, 2]);
    keepSamplesUpTo(dir, 0);
    expect(readFileSync(join(dir, 'samples.jsonl'), 'utf8')).toBe('');
  });
});
