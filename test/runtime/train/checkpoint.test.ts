/** Checkpoints round-trip exactly; an incomplete or corrupted one is never picked up. */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pack, unpack } from 'msgpackr';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, findCheckpoint, isComplete, latestCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointData } from '../../../runtime/train/checkpoint.js';

function data(step: number): CheckpointData {
  const t = (n: number, k: number) => ({ shape: [n], data: Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * k + step))) });
  return {
    step,
    weights: { 'tokEmb': t(12, 1), 'b0.wq': t(8, 2) },
    optimizer: { step, m: [t(12, 3), t(8, 4)], v: [t(12, 5), t(8, 6)] },
    state: { rng: 123456789 + step, cursor: step * 8, pipeline: { baseline: 0.25 } },
  };
}

describe('checkpoints', () => {
  it('round-trip every value bit for bit', () => {
    const out = mkdtempSync(join(tmpdir(), 'rlp-ck-'));
    const dir = saveCheckpoint(out, data(3));
    expect(isComplete(dir)).toBe(true);
    expect(latestCheckpoint(out)).toBe(dir);
    const back = loadCheckpoint(dir);
    const want = data(3);
    expect(back.step).toBe(3);
    expect(back.state).toEqual(want.state);
    for (const k of Object.keys(want.weights)) expect(Array.from(back.weights[k]!.data)).toEqual(Array.from(want.weights[k]!.data));
    expect(Array.from(back.optimizer.v[1]!.data)).toEqual(Array.from(want.optimizer.v[1]!.data));
  });

  it('skips a checkpoint whose manifest was never written (killed while saving)', () => {
    const out = mkdtempSync(join(tmpdir(), 'rlp-ck-'));
    const good = saveCheckpoint(out, data(1));
    const partial = saveCheckpoint(out, data(2));
    rmSync(join(partial, 'manifest.json'));
    expect(isComplete(partial)).toBe(false);
    expect(latestCheckpoint(out)).toBe(good);
  });

  it('skips a checkpoint whose files do not match the manifest', () => {
    const out = mkdtempSync(join(tmpdir(), 'rlp-ck-'));
    const good = saveCheckpoint(out, data(4));
    const bad = saveCheckpoint(out, data(5));
    writeFileSync(join(bad, 'weights.msgpack'), Buffer.from([1, 2, 3]));
    expect(latestCheckpoint(out)).toBe(good);
    expect(() => loadCheckpoint(bad)).toThrow(/not a complete checkpoint/);
  });

  it('finds nothing in an empty or missing folder', () => {
    const out = mkdtempSync(join(tmpdir(), 'rlp-ck-'));
    expect(latestCheckpoint(out)).toBeNull();
    expect(latestCheckpoint(join(out, 'none'))).toBeNull();
    expect(existsSync(join(out, 'latest'))).toBe(false);
  });
});

describe('checkpoints never hold a non-finite value', () => {
  it.each([
    ['a weight', (d: CheckpointData) => (d.weights['b0.wq']!.data[3] = NaN), /`b0\.wq` holds NaN at index 3/],
    ['a moment', (d: CheckpointData) => (d.optimizer.v[0]!.data[0] = Infinity), /optimizer `v\[0\]` holds Infinity at index 0/],
    ['the run state', (d: CheckpointData) => ((d.state as Record<string, unknown>)['cursor'] = NaN), /state `cursor` holds NaN/],
  ])('refuses to write %s that is not finite, and writes nothing', (_, spoil, message) => {
    const out = mkdtempSync(join(tmpdir(), 'rlp-ck-'));
    const d = data(4);
    spoil(d);
    expect(() => saveCheckpoint(out, d)).toThrow(CheckpointError);
    expect(() => saveCheckpoint(out, d)).toThrow(message);
    expect(existsSync(join(out, 'checkpoint-4'))).toBe(false);
    expect(latestCheckpoint(out)).toBeNull();
  });

  it('skips a complete-looking checkpoint with non-finite weights when resuming, and says so', () => {
    const out = mkdtempSync(join(tmpdir(), 'rlp-ck-'));
    const good = saveCheckpoint(out, data(1));
    const spoiled = saveCheckpoint(out, data(2));
    // Made as an older rlp would have: a manifest that matches its files, with NaN inside.
    const w = unpack(readFileSync(join(spoiled, 'weights.msgpack'))) as Record<string, { shape: number[]; data: Uint8Array }>;
    const f32 = new Float32Array(Uint8Array.from(w['tokEmb']!.data).buffer);
    f32[5] = NaN;
    w['tokEmb']!.data = new Uint8Array(f32.buffer);
    const body = pack(w);
    writeFileSync(join(spoiled, 'weights.msgpack'), body);
    const m = JSON.parse(readFileSync(join(spoiled, 'manifest.json'), 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
    m.files['weights.msgpack'] = { bytes: body.byteLength, sha256: createHash('sha256').update(body).digest('hex') };
    writeFileSync(join(spoiled, 'manifest.json'), JSON.stringify(m));
    expect(isComplete(spoiled)).toBe(true);
    const f = findCheckpoint(out);
    expect(f.dir).toBe(good);
    expect(f.skipped.join('\n')).toMatch(/checkpoint-2: `tokEmb` holds NaN at index 5/);
  });
});
