import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../../compiler/api/workspace.js';
import { memoryHost } from '../../../compiler/bind/host.js';
import { makeSource } from '../../../grammar/source.js';
import { FILES } from '../../helpers/api-fixture.js';

describe('Workspace', () => {
  it('reads open documents over the files, and the files again once closed', () => {
    const ws = new Workspace('/w', memoryHost(FILES));
    expect(ws.text('/w/base.rlp')).toBe(FILES['/w/base.rlp']);
    ws.set('/w/base.rlp', 'pipeline p {}');
    expect(ws.text('/w/base.rlp')).toBe('pipeline p {}');
    ws.close('/w/base.rlp');
    expect(ws.text('/w/base.rlp')).toBe(FILES['/w/base.rlp']);
  });

  it('checks an edited document as it is now, without saving it', () => {
    const ws = new Workspace('/w', memoryHost(FILES));
    expect(ws.analysis('/w/child.rlp').diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    ws.set('/w/child.rlp', FILES['/w/child.rlp']!.replace('A = r', 'A = rr'));
    expect(ws.analysis('/w/child.rlp').diagnostics.map((d) => d.code)).toEqual(['RLP2008']);
  });

  it('parses an unchanged file once: the host hands back the same parse', () => {
    const ws = new Workspace('/w', memoryHost(FILES));
    const f = makeSource('/w/base.rlp', FILES['/w/base.rlp']!);
    const first = ws.host.parse!(f);
    expect(ws.host.parse!(makeSource('/w/base.rlp', FILES['/w/base.rlp']!))).toBe(first);
    expect(ws.host.parse!(makeSource('/w/base.rlp', FILES['/w/base.rlp']! + ' '))).not.toBe(first);
  });

  it('keeps the last analysis that parsed while the text does not', () => {
    const ws = new Workspace('/w', memoryHost(FILES));
    const good = ws.lastParsed('/w/child.rlp');
    ws.set('/w/child.rlp', FILES['/w/child.rlp']!.replace('A = r', 'A = ('));
    expect(ws.analysis('/w/child.rlp').module('/w/child.rlp')?.ast).toBeNull();
    expect(ws.lastParsed('/w/child.rlp')).toBe(good);
  });

  it('reaches the .rlp files beside a document and the stdlib in its wide analysis', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlp-ws-'));
    writeFileSync(join(dir, 'base.rlp'), FILES['/w/base.rlp']!);
    writeFileSync(join(dir, 'child.rlp'), FILES['/w/child.rlp']!);
    const roots = new Workspace(dir).wide(join(dir, 'base.rlp')).program.roots.map((m) => m.file.path);
    expect(roots).toContain('base.rlp');
    expect(roots).toContain('child.rlp');
    expect(roots.filter((r) => r.endsWith('stdlib/grpo.rlp'))).toHaveLength(1);
  });
});
