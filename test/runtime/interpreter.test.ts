/** The reference interpreter against values worked out by hand. */
import { describe, expect, it } from 'vitest';
import { memoryHost } from '../../compiler/bind/host.js';
import { compileFiles } from '../../compiler/compile.js';
import { interpretOutputs } from '../../runtime/reference/interpreter.js';
import { named } from '../../runtime/reference/named-array.js';

function run(src: string, inputs: Record<string, ReturnType<typeof named>>) {
  const r = compileFiles(['/w/x.rlp'], { host: memoryHost({ '/w/x.rlp': src }) });
  expect(r.diagnostics).toEqual([]);
  return interpretOutputs(r.pipelines[0]!.raw, { inputs });
}

const reward = named(['B', 'G'], [2, 3], [1, 0, 0, 2, 2, 2]);

describe('the reference interpreter', () => {
  it('computes group means and unbiased stds by name', () => {
    const o = run('pipeline p { advantage { m = mean(reward, over G)\n s = std(reward, over G)\n A = (reward - m) / (s + 1) } }', { reward });
    expect(Array.from(o['advantage.m']!.data)).toEqual([1 / 3, 2]);
    expect(o['advantage.s']!.data[0]).toBeCloseTo(Math.sqrt(((2 / 3) ** 2 + 2 * (1 / 3) ** 2) / 2), 12);
    expect(o['advantage.s']!.data[1]).toBe(0);
    expect(Array.from(o['advantage.A']!.data.slice(3))).toEqual([0, 0, 0]);
  });

  it('averages only the masked tokens with `where`', () => {
    const logp = named(['B', 'G', 'T'], [1, 2, 3], [-1, -2, 99, -4, 99, 99]);
    const mask = named(['B', 'G', 'T'], [1, 2, 3], [1, 1, 0, 1, 0, 0]);
    const o = run('pipeline p { loss { s = mean(logp, over T, where mask)\n minimize sum(s, over [B, G]) } }', { logp, mask });
    expect(Array.from(o['loss.s']!.data)).toEqual([-1.5, -4]);
    expect(o['loss']!.data[0]).toBe(-5.5);
  });

  it('indexes along a named dim and broadcasts the result back', () => {
    const o = run('pipeline p { advantage { A = reward - reward[G=0] } }', { reward });
    expect(Array.from(o['advantage.A']!.data)).toEqual([0, -1, -1, 0, 0, 0]);
  });

  it('expands over a new dim', () => {
    const mask = named(['B', 'G', 'T'], [2, 3, 2], [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0]);
    const o = run('pipeline p { loss { e = expand(reward, over T)\n minimize sum(e, over [B, G, T], where mask) } }', { reward, mask });
    expect(o['loss']!.data[0]).toBe(1 + 1 + 0 + 2 + 2 + 2 + 2);
    expect(o['loss.e']!.shape).toEqual([2, 3, 2]);
    expect(Array.from(o['loss.e']!.data.slice(0, 4))).toEqual([1, 1, 0, 0]);
  });
});
