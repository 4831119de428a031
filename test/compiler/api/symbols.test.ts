import { describe, expect, it } from 'vitest';
import { declarationSpan, isRenamable, symbolKey } from '../../../compiler/api/symbols.js';
import { standardInput } from '../../../compiler/check/inputs.js';
import { spanText } from '../../../grammar/source.js';
import { fixture } from '../../helpers/api-fixture.js';

describe('symbols', () => {
  const a = fixture();
  const find = (path: string, name: string, decl: boolean) => a.occurrences(a.module(path)!).find((o) => spanText(o.span) === name && o.isDecl === decl)!.symbol;

  it('give a parent\'s binding and a child\'s override the same key', () => {
    expect(symbolKey(find('/w/child.rlp', 'A', true))).toBe(symbolKey(find('/w/base.rlp', 'A', true)));
    expect(symbolKey(find('/w/base.rlp', 'A', true))).toBe('member:/w/base.rlp#base.A');
  });

  it('point a use at the declaration in force in its pipeline', () => {
    const s = find('/w/child.rlp', 'A', false);
    expect(spanText(declarationSpan(s)!)).toBe('A');
    expect(declarationSpan(s)!.file.path).toBe('/w/child.rlp');
  });

  it('rename only what source declares', () => {
    expect(isRenamable(find('/w/base.rlp', 'beta', true))).toBe(true);
    expect(isRenamable({ kind: 'op', name: 'exp' })).toBe(false);
    expect(isRenamable({ kind: 'input', input: standardInput('logp')! })).toBe(false);
    expect(isRenamable({ kind: 'dim', name: 'G', decl: null, module: null })).toBe(false);
  });
});
