/** Built-in tasks: deterministic rows with correct answers, encodable by the tokenizer. */
import { describe, expect, it } from 'vitest';
import { BUILTIN_REWARDS } from '../../../compiler/check/inputs.js';
import { charTokenizer, EOS, UnknownCharacter } from '../../../runtime/policy/tokenizer.js';
import { BUILTIN_REWARD_FNS, correct, format, length } from '../../../runtime/rewards/builtins.js';
import { arithmetic, sortDigits, TASKS } from '../../../runtime/tasks/index.js';

describe('built-in tasks', () => {
  it('arithmetic rows add up, and the same seed gives the same rows', () => {
    for (let i = 0; i < 200; i++) {
      const row = arithmetic.row(3, i);
      const m = /^(\d+)\+(\d+)=$/.exec(row.prompt)!;
      expect(Number(row.answer)).toBe(Number(m[1]) + Number(m[2]));
      expect(arithmetic.format.test(row.answer)).toBe(true);
      expect(arithmetic.row(3, i)).toEqual(row);
    }
    expect(arithmetic.row(3, 0)).not.toEqual(arithmetic.row(4, 0));
  });

  it('sort rows hold the sorted digits', () => {
    for (let i = 0; i < 200; i++) {
      const row = sortDigits.row(1, i);
      const digits = /^sort:(\d+)=$/.exec(row.prompt)![1]!;
      expect(row.answer).toBe([...digits].sort().join(''));
      expect(sortDigits.format.test(row.answer)).toBe(true);
    }
  });

  it('every task row encodes and decodes with the shipped tokenizer', () => {
    const tok = charTokenizer();
    for (const t of TASKS) {
      for (let i = 0; i < 50; i++) {
        const row = t.row(9, i);
        expect(tok.decode(tok.encode(row.prompt + row.answer))).toBe(row.prompt + row.answer);
      }
    }
  });
});

describe('the character tokenizer', () => {
  it('stops decoding at EOS and names an unknown character', () => {
    const tok = charTokenizer();
    expect(tok.decode([...tok.encode('47'), EOS, ...tok.encode('9')])).toBe('47');
    expect(() => tok.encode('1+é')).toThrow(UnknownCharacter);
    expect(() => tok.encode('1+é')).toThrow(/"é" at index 2/);
  });
});

describe('built-in rewards', () => {
  it('score completions with TRL’s calling convention', () => {
    const prompts = ['q', 'q', 'q'];
    expect(correct.fn({ prompts, completions: ['47', ' 47 ', '46'], answer: ['47', '47', '47'] })).toEqual([1, 1, 0]);
    expect(format.fn({ prompts, completions: ['47', 'x7'], format: ['^\\d+$', '^\\d+$'] })).toEqual([1, 0]);
    expect(length.fn({ prompts, completions: ['', 'abc'] })).toEqual([0, 3]);
  });

  it('are the reward names the compiler accepts in a reward stage', () => {
    expect(BUILTIN_REWARD_FNS.map((r) => r.name).sort()).toEqual(BUILTIN_REWARDS.map((r) => r.name).sort());
  });
});
