/** Numeric flags are range-checked: nothing is silently 0, Infinity or wrapped. */
import { describe, expect, it } from 'vitest';
import { learningRate, nonNegativeInt, positiveInt, secondsFlag, seedFlag } from '../../runtime/cli/flags.js';
import { UsageError } from '../../runtime/cli/io.js';

describe('numeric flags', () => {
  it.each(['Infinity', '1e300', '2', '0', '-0.1', 'NaN', 'abc', ''])('refuse --lr %s', (v) => {
    expect(() => learningRate(v)).toThrow(UsageError);
    expect(() => learningRate(v)).toThrow(`--lr takes a learning rate in (0, 1], found \`${v}\``);
  });

  it('accept an ordinary learning rate', () => {
    expect(learningRate('3e-4')).toBe(3e-4);
    expect(learningRate('1')).toBe(1);
  });

  it.each(['abc', '1.5', '-1', '2147483648', '1e20', ''])('refuse --seed %s (it was silently 0 or wrapped)', (v) => {
    expect(() => seedFlag(v)).toThrow(/--seed takes an integer in \[0, 2147483647\]/);
  });

  it('accept seeds and counts in range, and refuse counts past their bound', () => {
    expect(seedFlag('2147483647')).toBe(2147483647);
    expect(positiveInt('--prompts', '32', 4096)).toBe(32);
    expect(() => positiveInt('--prompts', '100000', 4096)).toThrow('--prompts takes an integer in [1, 4096], found `100000`');
    expect(nonNegativeInt('--task-size', '0')).toBe(0);
    expect(() => positiveInt('--steps', 'Infinity')).toThrow(UsageError);
  });

  it('read --reward-timeout in seconds, finite and positive', () => {
    expect(secondsFlag('--reward-timeout', '0.5')).toBe(500);
    for (const v of ['0', '-1', 'Infinity', 'x']) expect(() => secondsFlag('--reward-timeout', v)).toThrow(UsageError);
  });
});
