import { describe, expect, it } from 'vitest';
import { spanText } from '../../../grammar/source.js';
import { fixture } from '../../helpers/api-fixture.js';

describe('indexModule', () => {
  const a = fixture();
  const occ = (path: string) => a.occurrences(a.module(path)!).map((o) => `${spanText(o.span)}:${o.symbol.kind}${o.isDecl ? '!' : ''}`);

  it('resolves every name of a pipeline: params, state, bindings, inputs, rewards, ops, functions, dims, blocks', () => {
    const names = occ('/w/base.rlp');
    expect(names).toContain('beta:member!');
    expect(names).toContain('correct:reward');
    expect(names).toContain('logp:input');
    expect(names).toContain('exp:op');
    expect(names).toContain('twice:fn');
    expect(names).toContain('G:dim');
    expect(names).toContain('loss:block');
    expect(names).toContain('K:dim!');
    expect(names).toContain('"std/prelude":module');
  });

  it('treats an `update` as a use of its state variable, not a declaration', () => {
    const names = occ('/w/base.rlp');
    expect(names.filter((n) => n.startsWith('seen:'))).toEqual(['seen:member!', 'seen:member', 'seen:member']);
  });

  it('gives an override in a child the identity of the parent\'s binding', () => {
    const child = a.occurrences(a.module('/w/child.rlp')!).find((o) => spanText(o.span) === 'A' && o.isDecl)!;
    expect(child.symbol.kind === 'member' && child.symbol.owner.name.name).toBe('base');
  });

  it('indexes function parameters as locals of their function', () => {
    expect(occ('/stdlib/prelude.rlp')).toEqual(['twice:fn!', 'x:local!', 'x:local']);
  });
});
