/** The Python helpers of exported code: a module carries exactly the helpers it calls, with their dependencies. */
import { describe, expect, it } from 'vitest';
import { HELPER_NAMES, helpersFor } from '../../../compiler/torch/prelude.js';

describe('the torch prelude', () => {
  it('carries the helpers a module calls and those they call, and nothing else', () => {
    const py = helpersFor('    x = _std(a, (1,), correction=1)\n');
    const defs = [...py.matchAll(/^def (\w+)\(/gm)].map((m) => m[1]);
    expect(defs).toEqual(['_masked', '_count', '_safe_div', '_mean', '_var', '_std']);
  });

  it('does not mistake a method or a longer name for a helper call', () => {
    expect(helpersFor('y = x._sum(1) + my_mean(x)')).toBe('');
  });

  it('names each helper once, with a docstring', () => {
    expect(new Set(HELPER_NAMES).size).toBe(HELPER_NAMES.length);
    const all = helpersFor(HELPER_NAMES.map((n) => `${n}(x)`).join('\n'));
    expect([...all.matchAll(/^def \w+\(.*\):\n {4}"""/gm)].length).toBe(HELPER_NAMES.length);
  });
});
