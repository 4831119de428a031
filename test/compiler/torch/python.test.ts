/** Python source pieces: names that shadow nothing, alignment by dim name, the names an expression reads. */
import { describe, expect, it } from 'vitest';
import { alignIndex, pyName, refsIn } from '../../../compiler/torch/python.js';

describe('python source pieces', () => {
  it('renames DSL names that Python reserves or the emitted code uses', () => {
    expect(pyName('lambda')).toBe('lambda_');
    expect(pyName('torch')).toBe('torch_');
    expect(pyName('_x')).toBe('v_x');
    expect(pyName('clip_low')).toBe('clip_low');
  });

  it('aligns a value to finer dims by indexing with None where it lacks a dim', () => {
    expect(alignIndex('a', ['B', 'G'], ['B', 'G', 'T'])).toBe('a[:, :, None]');
    expect(alignIndex('a', ['B'], ['B', 'G', 'T'])).toBe('a[:, None, None]');
    expect(alignIndex('a', ['G', 'T'], ['B', 'G', 'T'])).toBe('a');
    expect(alignIndex('a', ['B', 'T'], ['B', 'G', 'T'])).toBe('a[:, None]');
    expect(alignIndex('a', [], ['B'])).toBe('a');
  });

  it('finds the variables an expression reads, not attributes, keywords or strings', () => {
    const names = new Set(['x', 'values', 'dim', 'w']);
    expect(refsIn('torch.sort(x, dim=0).values', names)).toEqual(['x']);
    expect(refsIn('_sum(x, (1,), w) + "w"', names)).toEqual(['x', 'w']);
    expect(refsIn('x == w', names)).toEqual(['x', 'w']);
  });
});
