import { describe, expect, it } from 'vitest';
import { offsetOf, pathToUri, position, range, toLspDiagnostic, uriToPath, workspaceEdit } from '../../../runtime/cli/lsp/convert.js';
import { makeSource, span } from '../../../grammar/source.js';
import { diag } from '../../../compiler/diagnostics/diagnostic.js';
import { fixture } from '../../helpers/api-fixture.js';

describe('convert', () => {
  const f = makeSource('/w/a.rlp', 'ab\ncdé\n\nx');

  it('maps offsets and positions both ways, clamping past a line\'s end', () => {
    for (let o = 0; o <= f.text.length; o++) expect(offsetOf(f, position(f, o))).toBe(o);
    expect(position(f, 4)).toEqual({ line: 1, character: 1 });
    expect(offsetOf(f, { line: 0, character: 99 })).toBe(2);
    expect(offsetOf(f, { line: 99, character: 0 })).toBe(f.text.length);
  });

  it('round-trips paths through file URIs, escaping what needs it', () => {
    expect(pathToUri('/w/a b.rlp')).toBe('file:///w/a%20b.rlp');
    expect(uriToPath(pathToUri('/w/a b.rlp'))).toBe('/w/a b.rlp');
  });

  it('carries code, message with notes and help, related spans and the raw parts', () => {
    const a = fixture();
    const file = a.module('/w/base.rlp')!.file;
    const d = diag('RLP2008', span(file, 0, 6), { name: 'x' }, { help: 'did you mean `y`?', notes: ['a note'], labels: [{ span: span(file, 7, 9), message: 'here' }], spanLabel: 'this' });
    const l = toLspDiagnostic(a, d);
    expect(l.code).toBe('RLP2008');
    expect(l.severity).toBe(1);
    expect(l.message).toBe('unknown name `x`\nnote: a note\nhelp: did you mean `y`?');
    expect(l.relatedInformation).toEqual([{ location: { uri: 'file:///w/base.rlp', range: range(span(file, 7, 9)) }, message: 'here' }]);
    expect(l.data).toEqual({ help: 'did you mean `y`?', notes: ['a note'], spanLabel: 'this' });
  });

  it('groups edits by file', () => {
    const e = workspaceEdit([{ path: '/w/a.rlp', span: span(f, 0, 1), newText: 'z' }, { path: '/w/a.rlp', span: span(f, 3, 4), newText: 'y' }]);
    expect(Object.keys(e.changes!)).toEqual(['file:///w/a.rlp']);
    expect(e.changes!['file:///w/a.rlp']!.map((t) => t.newText)).toEqual(['z', 'y']);
  });
});
