import { describe, expect, it } from 'vitest';
import { completionsAt } from '../../../compiler/api/complete.js';
import { at, fixture, PARENT } from '../../helpers/api-fixture.js';

describe('completionsAt', () => {
  const a = fixture();
  const labels = (text: string, offset: number) => completionsAt(a, '/w/base.rlp', text, offset).map((c) => c.label);

  it('offers the declared dims after `over`', () => {
    expect(labels(PARENT, at(PARENT, 'over G', 0, 5))).toEqual(['B', 'G', 'T', 'V', 'K']);
  });

  it('offers the bindings of earlier stages but not later ones, params and state', () => {
    const adv = labels(PARENT, at(PARENT, 'A = r', 0, 4));
    expect(adv).toContain('r');
    expect(adv).toContain('A');
    expect(adv).not.toContain('ratio');
    expect(adv).toContain('beta');
    expect(adv).toContain('seen');
    expect(adv).toContain('twice');
    expect(adv).not.toContain('minimize');
  });

  it('offers reward functions only in the reward stage, and `minimize` in the loss stage', () => {
    expect(labels(PARENT, at(PARENT, 'r = correct', 0, 4))).toContain('correct');
    expect(labels(PARENT, at(PARENT, 'A = r', 0, 4))).not.toContain('correct');
    expect(labels(PARENT, at(PARENT, 'minimize', 0, 0))).toContain('minimize');
  });

  it('offers nothing inside params, types after a colon, and a function\'s parameters in its body', () => {
    expect(labels(PARENT, at(PARENT, 'beta: float', 0, 0))).toEqual([]);
    expect(labels(PARENT, at(PARENT, 'beta: float', 0, 6))).toEqual(['int', 'float', 'bool', 'string', 'f32', 'i32']);
    const fn = 'fn g(x, y) {\n  ';
    expect(completionsAt(a, '/w/base.rlp', fn, fn.length).slice(0, 2).map((c) => c.label)).toEqual(['x', 'y']);
  });

  it('replaces the word typed so far', () => {
    const text = PARENT.replace('A = r - mean', 'A = ra - mean');
    const c = completionsAt(a, '/w/base.rlp', text, at(text, 'A = ra', 0, 6)).find((x) => x.label === 'r')!;
    expect(c.replaceStart).toBe(at(text, 'A = ra', 0, 4));
  });
});
