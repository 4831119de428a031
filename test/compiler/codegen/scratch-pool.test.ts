/** The generated kernels' scratch pool: arrays come back by length, within its bounds. */
import { describe, expect, it } from 'vitest';
import { giveScratch, MAX_BYTES, scratchBytes, takeScratch } from '../../../compiler/codegen/scratch-pool.js';

describe('scratch pool', () => {
  it('gives back an array of the asked length, the pooled one first, and never one twice', () => {
    const n = 12_345;
    const a = new Float64Array(n);
    giveScratch(a);
    giveScratch(a);
    expect(takeScratch(n)).toBe(a);
    const b = takeScratch(n);
    expect(b).not.toBe(a);
    expect(b.length).toBe(n);
  });

  it('keeps at most four arrays of one length and MAX_BYTES in all', () => {
    const before = scratchBytes();
    const n = 777;
    for (let i = 0; i < 10; i++) giveScratch(new Float64Array(n));
    expect(scratchBytes() - before).toBe(4 * 8 * n);
    const huge = new Float64Array(MAX_BYTES / 8 + 1);
    giveScratch(huge);
    expect(takeScratch(huge.length)).not.toBe(huge);
    expect(scratchBytes()).toBeLessThanOrEqual(MAX_BYTES);
    for (let i = 0; i < 4; i++) takeScratch(n);
    expect(scratchBytes()).toBe(before);
  });
});
