/** A UTF-8 byte-order mark is skipped in .rlp, batch JSON and JSONL files; UTF-16 files get a message saying so. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../compiler/compile.js';
import { readBatch } from '../../runtime/batch/read.js';
import { validateDataset } from '../../runtime/data/jsonl.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-enc-'));
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const utf16le = (s: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
function file(name: string, bytes: Buffer): string {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
}
const SRC = 'pipeline p {\n  loss { minimize mean(reward, over [B, G]) }\n}\n';

describe('text encodings', () => {
  it('skip a UTF-8 BOM in a .rlp file, keeping columns right', () => {
    const ok = compileFiles([file('bom.rlp', Buffer.concat([BOM, Buffer.from(SRC)]))]);
    expect(ok.diagnostics).toEqual([]);
    const bad = compileFiles([file('bom-bad.rlp', Buffer.concat([BOM, Buffer.from('pipeline p { loss { minimize mean(rewrd, over [B, G]) } }\n')]))]);
    expect(bad.diagnostics.map((d) => [d.code, d.span.start])).toEqual([['RLP2008', 34]]);
  });

  it('refuse a UTF-16 .rlp file with a message saying so', () => {
    const r = compileFiles([file('u16.rlp', utf16le(SRC))]);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['RLP0005']);
    expect(r.diagnostics[0]!.message).toContain('UTF-16');
  });

  it('skip a UTF-8 BOM in a batch JSON file', () => {
    const r = readBatch(file('b.json', Buffer.concat([BOM, Buffer.from('{"reward": {"shape": [1, 2], "data": [0, 1]}}')])));
    expect(r.diagnostics).toEqual([]);
    expect(r.entries.map((e) => e.name)).toEqual(['reward']);
  });

  it('refuse a UTF-16 batch JSON file with a message saying so', () => {
    const r = readBatch(file('u16.json', utf16le('{"reward": {"shape": [1, 2], "data": [0, 1]}}')));
    expect(r.diagnostics.map((d) => d.message)).toEqual(['the file is UTF-16 (little-endian) text; rlp reads UTF-8: save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)']);
  });

  it('skip a UTF-8 BOM in a JSONL dataset and refuse UTF-16', async () => {
    const info = await validateDataset(file('d.jsonl', Buffer.concat([BOM, Buffer.from('{"prompt": "1+1=", "answer": "2"}\n')])));
    expect(info.columns).toEqual(['answer', 'prompt']);
    await expect(validateDataset(file('u16.jsonl', utf16le('{"prompt": "1+1="}\n')))).rejects.toThrow('UTF-16 (little-endian)');
  });
});
