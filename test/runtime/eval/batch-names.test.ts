/** Real batches carry every column: unread standard inputs are a warning (an error under --strict); reward functions can be fed; bypassed bindings are warned about. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { makeSource, span } from '../../../grammar/source.js';
import type { BatchEntry } from '../../../runtime/batch/read.js';
import { validateBatch } from '../../../runtime/eval/validate.js';
import { makeBatch, stdlibPipeline } from '../../helpers/stdlib-harness.js';

const here = span(makeSource('batch.json', '{}'), 0, 0);
const b = makeBatch({ B: 2, G: 4, T: 3, seed: 1, reward: (r) => r() });
/** Every standard column a TRL or verl dump carries. */
function fullBatch(): BatchEntry[] {
  const tok = [b.B, b.G, b.T];
  return [
    { name: 'logp', tensor: { shape: tok, data: b.logp }, span: here },
    { name: 'old_logp', tensor: { shape: tok, data: b.old_logp }, span: here },
    { name: 'ref_logp', tensor: { shape: tok, data: b.ref_logp }, span: here },
    { name: 'mask', tensor: { shape: tok, data: b.mask }, span: here },
    { name: 'reward', tensor: { shape: [b.B, b.G], data: b.reward }, span: here },
    { name: 'values', tensor: { shape: tok, data: b.values }, span: here },
  ];
}
const opts = { set: {}, grad: ['logp'], allowNonfinite: false, fileSpan: here };

describe('batch entries', () => {
  it('dapo takes a batch that also holds ref_logp and values, with one warning', () => {
    const v = validateBatch(stdlibPipeline('dapo').ir, fullBatch(), opts);
    expect(v.valid).not.toBeNull();
    expect(v.diagnostics.map((d) => [d.code, d.severity, d.message])).toEqual([
      ['RLP6032', 'warning', '`ref_logp`, `values`: standard inputs that `dapo` does not read, ignored'],
    ]);
  });

  it('reinforce_pp_baseline takes a batch that holds reward', () => {
    const v = validateBatch(stdlibPipeline('reinforce_pp_baseline').ir, [...fullBatch(), { name: 'token_reward', tensor: { shape: [b.B, b.G, b.T], data: b.token_reward }, span: here }], opts);
    expect(v.valid).not.toBeNull();
    expect(v.diagnostics.every((d) => d.severity === 'warning')).toBe(true);
  });

  it('--strict makes an unread standard input an error', () => {
    const v = validateBatch(stdlibPipeline('dapo').ir, fullBatch(), { ...opts, strict: true });
    expect(v.valid).toBeNull();
    expect(v.diagnostics.map((d) => [d.code, d.severity])).toEqual([['RLP6032', 'error']]);
  });

  it('keeps an unknown non-standard name an error with did-you-mean', () => {
    const v = validateBatch(stdlibPipeline('dapo').ir, [...fullBatch(), { name: 'old_lgop', tensor: { shape: [b.B, b.G, b.T], data: b.logp }, span: here }], opts);
    expect(v.valid).toBeNull();
    const e = v.diagnostics.find((d) => d.code === 'RLP6010')!;
    expect(e.severity).toBe('error');
    expect(e.help).toBe('did you mean `old_logp`?');
  });
});

describe('reward-stage logic in rlp eval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlp-rs-'));
  const src = join(dir, 'p.rlp');
  writeFileSync(src, `import "std/prelude"
pipeline p {
  reward {
    long = seq_len(mask) > 2
    reward = correct - 0.5 * long
  }
  advantage { A = reward - mean(reward, over G) }
  loss { minimize mean(-A * sum(logp, over T, where mask), over [B, G]) }
}
`);
  const p = compileFiles([src]).pipelines[0]!;
  const base = fullBatch().filter((e) => e.name === 'logp' || e.name === 'mask');
  const correct = { shape: [b.B, b.G], data: b.reward };

  for (const name of ['reward_fn.correct', 'correct']) {
    it(`evaluates the reward stage from a reward function's output fed as ${name}`, () => {
      const v = validateBatch(p.ir, [...base, { name, tensor: correct, span: here }], opts);
      expect(v.valid).not.toBeNull();
      expect(v.diagnostics).toEqual([]);
      expect(v.valid!.plan.outputs.has('reward.reward')).toBe(true);
    });
  }

  it('warns that feeding reward leaves the length penalty unused', () => {
    const v = validateBatch(p.ir, [...base, { name: 'reward', tensor: correct, span: here }], opts);
    expect(v.valid).not.toBeNull();
    expect(v.diagnostics.map((d) => [d.code, d.message])).toEqual([['RLP6033', 'feeding `reward` leaves `reward.long` unused: this value no longer reaches any result']]);
  });

  it('says how to feed a reward function that is missing', () => {
    const v = validateBatch(p.ir, base, opts);
    expect(v.diagnostics.find((d) => d.code === 'RLP6001')!.help).toBe('feed the function\'s output as `reward_fn.correct` (or `correct`, `f32[B,G]`), or the reward stage\'s result: `long` or `reward`');
  });

  it('prints the warning as one line from rlp eval, and exits 0', () => {
    const file = join(dir, 'batch.json');
    const json = Object.fromEntries(fullBatch().map((e) => [e.name, { shape: e.tensor.shape, data: Array.from(e.tensor.data) }]));
    writeFileSync(file, JSON.stringify(json));
    const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'eval', 'dapo', '--batch', file, '--backend', 'cpu'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([`${file}:1:1: warning[RLP6032]: \`ref_logp\`, \`values\`: standard inputs that \`dapo\` does not read, ignored`]);
    const strict = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'eval', 'dapo', '--batch', file, '--strict'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(strict.status).toBe(1);
  });
});
