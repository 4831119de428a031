/** What adapters are told: the params dict, and whether a loss needs the groups of its rows. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { needsGroups, paramsDict } from '../../../compiler/torch/adapters.js';
import { exportTorch, unfusedGraph } from '../../../compiler/torch/export.js';

const files = readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).map((f) => `stdlib/${f}`);
const byName = new Map(compileFiles(files).pipelines.map((p) => [p.name, p]));
const lossNeedsGroups = (name: string): boolean => {
  const p = byName.get(name)!;
  return needsGroups(unfusedGraph(p), exportTorch(p).functions.find((f) => f.fn === 'compute_loss')!);
};

describe('adapter inputs', () => {
  it('lists every param the functions take, with the pipeline defaults, as Python', () => {
    const d = paramsDict(exportTorch(byName.get('grpo')!).functions);
    expect(d).toMatch(/^PARAMS = \{\n {4}"eps": 1e-6,\n {4}"singleton_verl": False,\n {4}"clip_low": 0\.2,/m);
  });

  it('sees that a loss over [B, G] together can take rows as [N, 1, T], and one that indexes G cannot', () => {
    expect(lossNeedsGroups('grpo')).toBe(false);
    expect(lossNeedsGroups('gspo')).toBe(false);
    expect(lossNeedsGroups('dpo')).toBe(true);
    // reg_grpo standardizes the sequence log-ratio over each prompt's samples
    expect(lossNeedsGroups('reg_grpo')).toBe(true);
  });

  it('looks only at what the loss computes: counting the reward\'s entries does not read the reward stage', () => {
    // otc_grpo's reward stage reduces over G; its loss (GRPO's) only counts the reward's [B, G] entries
    expect(lossNeedsGroups('otc_grpo')).toBe(false);
  });

  it('gives the loss the advantage stage\'s results computed from rewards, and lets it recompute the rest', () => {
    // opo's advantage stage computes L = seq_len(mask), which its loss also needs: the loss computes it
    const opo = exportTorch(byName.get('opo')!).functions.find((f) => f.fn === 'compute_loss')!;
    expect(opo.args.map((a) => a.feed)).toEqual(['logp', 'old_logp', 'mask', 'advantage.A']);
    // disco's loss reads the advantage stage's pos and neg (from the reward): given
    const disco = exportTorch(byName.get('disco')!).functions.find((f) => f.fn === 'compute_loss')!;
    expect(disco.args.map((a) => a.feed)).toEqual(expect.arrayContaining(['advantage.pos', 'advantage.neg']));
  });
});
