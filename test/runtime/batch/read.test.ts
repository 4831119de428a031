/** Reading batch files: float64 bytes in a msgpack batch are recognised and the fix is spelled out. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { readBatch } from '../../../runtime/batch/read.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-read-'));

describe('msgpack batches', () => {
  it('say when binary data looks like float64 bytes read as float32', () => {
    const f64 = new Float64Array(48).map((_, i) => i / 10);
    const f = join(dir, 'b64.msgpack');
    writeFileSync(f, pack({ logp: { shape: [2, 4, 6], data: new Uint8Array(f64.buffer) } }));
    const r = readBatch(f);
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([['RLP6003', '`logp` has 96 values, but its shape [2,4,6] needs 48']]);
    expect(r.diagnostics[0]!.help).toContain('these look like float64 bytes read as float32: write float32');
  });

  it('read float32 bytes, and give no float64 hint for a list of the wrong length', () => {
    const f = join(dir, 'b32.msgpack');
    writeFileSync(f, pack({ logp: { shape: [2, 3], data: new Uint8Array(Float32Array.of(1, 2, 3, 4, 5, 6).buffer) }, mask: { shape: [2], data: [1, 1, 1, 1] } }));
    const r = readBatch(f);
    expect(r.entries.map((e) => Array.from(e.tensor.data))).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(r.diagnostics.map((d) => [d.code, d.help])).toEqual([['RLP6003', null]]);
  });
});
