/**
 * Reading batch files: float64 bytes in a msgpack batch are recognised and the fix is spelled out;
 * JSON batches are read without a syntax tree, so a large one with an error fits a small heap.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { readBatch } from '../../../runtime/batch/read.js';
import { buildCli } from '../../helpers/cli-process.js';

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

describe('JSON batches (issue 10, item 14: read without a syntax tree)', () => {
  it('point each entry at its key, and a syntax error where a full JSON parser finds the first', async () => {
    const jsonc = await import('jsonc-parser');
    const ok = join(dir, 'keys.json');
    writeFileSync(ok, ' {"logp": {"shape": [2], "data": [1, 2]}, "m\\u0061sk": {"shape": [2], "data": [1, 0]},\n "logp": 3, "x": "}{\\"," }');
    const r = readBatch(ok);
    const text = r.file.text;
    expect(r.entries.map((e) => [e.name, text.slice(e.span.start, e.span.end)])).toEqual([['logp', '"logp"'], ['mask', '"m\\u0061sk"']]);
    const bad = ['{"a": 1,}', '{"a": [1, 2 3]}', '{"a": 1} x', '[1, 2', '{"a": tru}', '{"a": "x\n"}', '{"a": 1, "b": {"c": [1, 2, 3]}, "d": x}', '{"a" 1}', '{"a": 1} {}'];
    for (const [k, t] of bad.entries()) {
      const f = join(dir, `bad${k}.json`);
      writeFileSync(f, t);
      const errors: import('jsonc-parser').ParseError[] = [];
      jsonc.parseTree(t, errors, { disallowComments: true, allowTrailingComma: false });
      const d = readBatch(f).diagnostics;
      expect(d.length).toBe(1);
      if (errors[0] !== undefined) expect([d[0]!.span.start, d[0]!.code]).toEqual([errors[0].offset, 'RLP6009']);
    }
  });

  it('report an error at the end of a 12 MB one-line batch from a CLI limited to a 64 MB heap (a syntax tree of it aborted out of memory)', () => {
    buildCli();
    const n = 1_000_000;
    const f = join(dir, 'big.json');
    writeFileSync(f, `{"logp": {"shape": [${n}], "data": [${'0.123456789,'.repeat(n - 1)}0.123456789]}, "mask": x}`);
    const r = spawnSync(process.execPath, ['--max-old-space-size=64', 'dist/rlp.mjs', 'eval', 'grpo', '--batch', f], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.stderr).toContain('error[RLP6009]: invalid JSON: invalid symbol');
    expect(r.stderr).toContain(`big.json:1:${12 * n + 51}`);
    expect(r.status).toBe(1);
    // The frame is a window of the line, not the line.
    expect(r.stderr.length).toBeLessThan(2000);
  });
});
