/** `rlp eval grpo` on a hand-sized batch reproduces GRPO written out by hand, gradient included. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { grpoReference, type GrpoBatch } from '../../helpers/grpo-reference.js';

const B = 2;
const G = 4;
const T = 5;
const lengths = [5, 3, 1, 4, 2, 5, 5, 3];
const mask = lengths.flatMap((L) => Array.from({ length: T }, (_, t) => (t < L ? 1 : 0)));
// Padded positions hold garbage on purpose: it must not reach the loss or the gradient.
const pad = (xs: number[]) => xs.map((v, i) => (mask[i] === 1 ? v : 1e4));
const logp = pad(Array.from({ length: B * G * T }, (_, i) => -0.1 - ((i * 37) % 17) / 10));
const old_logp = pad(logp.map((v, i) => v + (((i * 11) % 7) - 3) / 10));
const ref_logp = pad(logp.map((v, i) => v + (((i * 5) % 9) - 4) / 8));
const reward = [1, 0, 1, 1, 0, 0, 1, 0];
const batch: GrpoBatch = { B, G, T, logp, old_logp, ref_logp, mask, reward };

function tensor(data: number[], shape: number[]) {
  return { shape, data };
}
const batchJson = {
  logp: tensor(logp, [B, G, T]),
  old_logp: tensor(old_logp, [B, G, T]),
  ref_logp: tensor(ref_logp, [B, G, T]),
  mask: tensor(mask, [B, G, T]),
  reward: tensor(reward, [B, G]),
};

function rlp(args: string[]) {
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function closeTo(a: number, b: number, rel = 1e-5): boolean {
  return Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-3);
}

type Out = Record<string, { shape: number[]; data: number[] }>;

describe('rlp eval grpo --grad logp', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlp-eval-'));
  const file = join(dir, 'b.json');
  writeFileSync(file, JSON.stringify(batchJson));
  const want = grpoReference(batch);

  for (const backend of ['cpu', 'wasm']) {
    it(`matches the hand-written reference on ${backend}`, () => {
      const r = rlp(['eval', 'grpo', '--batch', file, '--grad', 'logp', '--backend', backend]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.out) as Out;
      expect(out['loss']!.shape).toEqual([]);
      expect(closeTo(out['loss']!.data[0]!, want.loss), `loss ${out['loss']!.data[0]} vs ${want.loss}`).toBe(true);
      expect(out['advantage']!.shape).toEqual([B, G]);
      out['advantage']!.data.forEach((v, i) => expect(closeTo(v, want.A[i]!), `A[${i}]`).toBe(true));
      const g = out['grad.logp']!;
      expect(g.shape).toEqual([B, G, T]);
      g.data.forEach((v, i) => {
        if (mask[i] === 0) expect(v, `grad[${i}] on padding`).toBe(0);
        else expect(closeTo(v, want.grad[i]!, 1e-4), `grad[${i}] ${v} vs ${want.grad[i]}`).toBe(true);
      });
    });
  }

  it('names every binding and orders results by stage', () => {
    const out = JSON.parse(rlp(['eval', 'grpo', '--batch', file, '--backend', 'cpu']).out) as Out;
    expect(Object.keys(out)).toEqual(['loss', 'advantage', 'reward.reward', 'advantage.A', 'loss.ratio', 'loss.surrogate', 'loss.kl', 'loss.per_token', 'loss.seqs', 'loss.tokens']);
  });

  it('applies --set to params', () => {
    const r = rlp(['eval', 'grpo', '--batch', file, '--backend', 'cpu', '--set', 'beta=0', '--set', 'clip_high=0.28']);
    const out = JSON.parse(r.out) as Out;
    const w = grpoReference(batch, { eps: 1e-6, clip_low: 0.2, clip_high: 0.28, beta: 0 });
    expect(closeTo(out['loss']!.data[0]!, w.loss)).toBe(true);
  });

  it('reads msgpack (number arrays or float32 bytes) and writes msgpack with -o', () => {
    const f32 = (xs: number[]) => Buffer.from(new Float32Array(xs).buffer);
    const mp = join(dir, 'b.msgpack');
    writeFileSync(mp, pack({ ...batchJson, logp: { shape: [B, G, T], data: f32(logp) } }));
    const outFile = join(dir, 'out.msgpack');
    const r = rlp(['eval', 'grpo', '--batch', mp, '--grad', 'logp', '--backend', 'cpu', '-o', outFile]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    const out = unpack(readFileSync(outFile)) as Out;
    expect(closeTo(out['loss']!.data[0]!, want.loss)).toBe(true);
    expect(out['grad.logp']!.data).toHaveLength(B * G * T);
  });

  it('lets a fed stage value replace its computation (a fed A skips the advantage stage)', () => {
    const A = [0.5, -0.5, 1, -1, 0, 0, 2, -2];
    const f = join(dir, 'a.json');
    writeFileSync(f, JSON.stringify({ ...batchJson, A: tensor(A, [B, G]) }));
    const out = JSON.parse(rlp(['eval', 'grpo', '--batch', f, '--backend', 'cpu']).out) as Out;
    expect(out['advantage']!.data).toEqual(A);
  });
});
