import { describe, expect, it } from 'vitest';
import { checkNewName, definitionAt, referencesAt, renameAt, renameRangeAt } from '../../../compiler/api/navigate.js';
import { spanText } from '../../../grammar/source.js';
import { at, CHILD, fixture, PARENT, PRELUDE } from '../../helpers/api-fixture.js';

describe('navigation', () => {
  const a = fixture();
  const show = (l: { path: string; span: { start: number; end: number; file: { text: string } } } | null) => (l === null ? null : `${l.path}@${l.span.start}:${l.span.file.text.slice(l.span.start, l.span.end)}`);

  it('goes to the parent across `extends`, and to an inherited binding in the parent\'s file', () => {
    expect(show(definitionAt(a, '/w/child.rlp', at(CHILD, 'extends base', 0, 8)))).toBe(`/w/base.rlp@${at(PARENT, 'pipeline base', 0, 9)}:base`);
    expect(show(definitionAt(a, '/w/child.rlp', at(CHILD, 'A = r', 0, 4)))).toBe(`/w/base.rlp@${at(PARENT, 'r = correct')}:r`);
  });

  it('goes into the stdlib for a prelude function', () => {
    expect(show(definitionAt(a, '/w/base.rlp', at(PARENT, 'twice(')))).toBe(`/stdlib/prelude.rlp@${at(PRELUDE, 'fn twice', 0, 3)}:twice`);
  });

  it('finds references in the parent and its children', () => {
    const refs = referencesAt(a, '/w/base.rlp', at(PARENT, 'A =')).map((l) => `${l.path}:${spanText(l.span)}`);
    expect(refs).toEqual(['/w/base.rlp:A', '/w/base.rlp:A', '/w/child.rlp:A', '/w/child.rlp:A']);
    expect(referencesAt(a, '/w/base.rlp', at(PARENT, 'A ='), false)).toHaveLength(2);
  });

  it('renames a binding in the parent, its use, its override in the child and the child\'s use', () => {
    const edits = renameAt(a, '/w/child.rlp', at(CHILD, 'A = r'), 'adv')!;
    expect(edits.map((e) => `${e.path}@${e.span.start}`)).toEqual([
      `/w/base.rlp@${at(PARENT, 'A =')}`, `/w/base.rlp@${at(PARENT, '* A', 0, 2)}`, `/w/child.rlp@${at(CHILD, 'A = r')}`, `/w/child.rlp@${at(CHILD, '* A', 0, 2)}`,
    ]);
    expect(edits.every((e) => e.newText === 'adv')).toBe(true);
  });

  it('refuses to rename built-ins and names that are not names', () => {
    expect(renameRangeAt(a, '/w/base.rlp', at(PARENT, 'exp('))).toBeNull();
    expect(renameAt(a, '/w/base.rlp', at(PARENT, 'logp -'), 'x')).toBeNull();
    expect(checkNewName('ok_name')).toBeNull();
    expect(checkNewName('2x')).toMatch(/not a name/);
  });
});
