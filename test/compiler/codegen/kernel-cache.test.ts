/** The fused kernels' cache: one compile per body, sizes and gradients; bounded, least recently used out. */
import { describe, expect, it } from 'vitest';
import { KernelCache } from '../../../compiler/codegen/kernel-cache.js';

describe('KernelCache', () => {
  it('compiles once per body, sizes (in any order) and asked gradients', () => {
    const c = new KernelCache<number>();
    let n = 0;
    const make = (): number => ++n;
    expect(c.get('b', new Map([['B', 2], ['T', 3]]), [true], make)).toBe(1);
    expect(c.get('b', new Map([['T', 3], ['B', 2]]), [true], make)).toBe(1);
    expect(c.get('b', new Map([['B', 2], ['T', 4]]), [true], make)).toBe(2);
    expect(c.get('b', new Map([['B', 2], ['T', 3]]), [false], make)).toBe(3);
    expect(c.get('c', new Map([['B', 2], ['T', 3]]), [true], make)).toBe(4);
  });

  it('holds at most its capacity, dropping the least recently used', () => {
    const c = new KernelCache<string>(2);
    const at = (t: number): ReadonlyMap<string, number> => new Map([['T', t]]);
    c.get('b', at(1), undefined, () => 'one');
    c.get('b', at(2), undefined, () => 'two');
    c.get('b', at(1), undefined, () => 'again');
    c.get('b', at(3), undefined, () => 'three');
    expect(c.size).toBe(2);
    expect(c.get('b', at(1), undefined, () => 'recompiled')).toBe('one');
    expect(c.get('b', at(2), undefined, () => 'recompiled')).toBe('recompiled');
  });
});
