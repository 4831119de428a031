/** The supervised warm start lowers its loss, and its checkpoint seeds a run (`--init`). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../../runtime/backends/index.js';
import { initPolicy, policyVariables } from '../../../runtime/policy/params.js';
import { charTokenizer, EOS } from '../../../runtime/policy/tokenizer.js';
import { arithmetic } from '../../../runtime/tasks/index.js';
import { adamState } from '../../../runtime/train/adam.js';
import { defaultPolicyConfig, loadWeights, save } from '../../../runtime/train/loop.js';
import { runSft, sftBatch } from '../../../runtime/train/sft.js';

describe('rlp sft', () => {
  it('learns only the answer and EOS of each row', () => {
    const tok = charTokenizer();
    const b = sftBatch(tok, [{ prompt: '1+2=', answer: '3' }, { prompt: '10+20=', answer: '30' }]);
    // Row 1 is BOS + "10+20=" + "30" + EOS: 10 tokens, so 9 positions predict a next token.
    expect(b.L).toBe(9);
    // Row 0: BOS 1 + 2 = 3 EOS -> targets at positions 4 (predicting "3") and 5 (predicting EOS).
    expect(Array.from(b.weights.slice(0, 9))).toEqual([0, 0, 0, 0, 1, 1, 0, 0, 0]);
    expect(b.targets[5]).toBe(EOS);
  });

  it('lowers the loss, and its checkpoint loads into a fresh policy', async () => {
    const { tf } = await useBackend('wasm');
    const p = initPolicy(tf, defaultPolicyConfig(), 0);
    const state = adamState(tf, policyVariables(p));
    const out = mkdtempSync(join(tmpdir(), 'rlp-sft-'));
    const losses = await runSft({
      rows: (i) => arithmetic.row(5, i), steps: 60, batch: 32, lr: 3e-3, seed: 0, out, saveEvery: 60, log: () => {},
      runner: { tf, backend: 'wasm' }, policy: p, state, tokenizer: charTokenizer(),
      save: (step) => save(tf, out, step, p, state, { step }),
    });
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)));
    const q = initPolicy(tf, defaultPolicyConfig(), 99);
    expect(loadWeights(tf, q, out)).toMatch(/checkpoint-60$/);
    const a = await policyVariables(p)[2]!.data();
    const b = await policyVariables(q)[2]!.data();
    expect(Array.from(b)).toEqual(Array.from(a));
    tf.dispose([...policyVariables(p), ...policyVariables(q), ...state.m, ...state.v]);
  });
});
