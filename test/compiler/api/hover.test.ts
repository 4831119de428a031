import { describe, expect, it } from 'vitest';
import { hoverAt } from '../../../compiler/api/hover.js';
import { at, CHILD, fixture, FILES, PARENT } from '../../helpers/api-fixture.js';

describe('hoverAt', () => {
  const a = fixture();
  const h = (path: string, offset: number) => hoverAt(a, path, offset)?.markdown ?? null;

  it('shows a binding\'s type with its mask and level', () => {
    expect(h('/w/base.rlp', at(PARENT, 'per_token ='))).toBe('```rlp\nper_token: f32[B,G,T]@mask\n```\n\nbinding of stage `loss` in `base`, token level');
  });

  it('shows a param\'s declaration and doc string', () => {
    expect(h('/w/base.rlp', at(PARENT, 'beta *'))).toBe('```rlp\nbeta: float = 0.1\n```\n\nparam in `base`\n\nweight of the penalty');
  });

  it('shows the child\'s type of an inherited binding, and who declared it', () => {
    expect(h('/w/child.rlp', at(CHILD, '* A', 0, 2))).toBe('```rlp\nA: f32[B,G]\n```\n\nbinding of stage `advantage` in `child` (declared by `base`), sequence level');
  });

  it('shows a function\'s signature and doc, and a declared dim\'s doc', () => {
    expect(h('/w/base.rlp', at(PARENT, 'twice('))).toBe('```rlp\nfn twice(x)\n```\n\nTwice a value.\n\ndeclared in `/stdlib/prelude.rlp`');
    expect(h('/w/base.rlp', at(PARENT, 'dim K', 0, 4))).toBe('```rlp\ndim K\n```\n\nmembers');
  });

  it('says when a binding has no type because it does not check', () => {
    const bad = { ...FILES, '/w/base.rlp': PARENT.replace('ratio = exp(logp - old_logp)', 'ratio = exp(logp - nope)') };
    const b = fixture(bad, ['/w/base.rlp']);
    expect(hoverAt(b, '/w/base.rlp', at(bad['/w/base.rlp']!, 'ratio ='))?.markdown).toContain('type unknown: the binding does not check');
  });
});
