/**
 * The TRL adapter against a stub of trl.GRPOTrainer (its hooks as trl/trainer/grpo_trainer.py has
 * them): advantages are grpo's over TRL's weighted reward sum, and `_compute_loss` is grpo's loss
 * divided by the gradient-accumulation steps, as TRL's own.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { exportTorch } from '../../../compiler/torch/export.js';
import { makeBatch } from '../../helpers/stdlib-harness.js';
import { PYTHON, torchTestsRun, writeModule } from '../../helpers/torch.js';

const files = readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).map((f) => `stdlib/${f}`);
const grpo = compileFiles(files).pipelines.find((p) => p.name === 'grpo')!;

describe('the TRL adapter', () => {
  it.runIf(torchTestsRun())('gives grpo\'s advantages and loss inside a GRPOTrainer', () => {
    const B = 2;
    const G = 4;
    const T = 5;
    const b = makeBatch({ B, G, T, seed: 51, lengths: [5, 0, 3, 1, 2, 5, 4, 4] });
    const rows = (x: Float64Array): number[][] => Array.from({ length: B * G }, (_, i) => Array.from(x.slice(i * T, (i + 1) * T)));
    const req = {
      G, weights: [1, 0.5],
      rewards_per_func: Array.from({ length: B * G }, (_, i) => [b.reward[i]!, (i % 3) / 2]),
      logp: rows(b.logp), old_logp: rows(b.old_logp), ref_logp: rows(b.ref_logp), mask: rows(b.mask),
    };
    const module = writeModule('grpo_trl', exportTorch(grpo, 'trl').code);
    const r = spawnSync(PYTHON, ['test/helpers/torch_trl.py', module], { input: JSON.stringify(req), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { advantage: number; loss: [number, number]; grad: number; grad_scale: number; metrics: string[] };
    expect(out.advantage).toBe(0);
    expect(Math.abs(out.loss[0] - out.loss[1])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(out.loss[1])));
    expect(out.grad).toBeLessThanOrEqual(1e-12 * out.grad_scale);
    expect(out.metrics).toEqual(['rlp/loss.kl', 'rlp/loss.per_token', 'rlp/loss.ratio', 'rlp/loss.seqs', 'rlp/loss.surrogate']);
  });
});
