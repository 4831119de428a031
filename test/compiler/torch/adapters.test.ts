/** What adapters are told: the params dict, and whether a loss needs the groups of its rows. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { needsGroups, paramsDict } from '../../../compiler/torch/adapters.js';
import { exportTorch } from '../../../compiler/torch/export.js';

const files = readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).map((f) => `stdlib/${f}`);
const byName = new Map(compileFiles(files).pipelines.map((p) => [p.name, p]));
const lossNeedsGroups = (name: string): boolean => {
  const p = byName.get(name)!;
  return needsGroups(p.ir, exportTorch(p).functions.find((f) => f.fn === 'compute_loss')!);
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
  });
});
