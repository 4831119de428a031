/** What an export leaves to the trainer's generator: the rollout's settings, and features only rlp's generator has. */
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { samplingNotes } from '../../../compiler/torch/sampling.js';

const pipelines = compileFiles(['stdlib/grpo.rlp', 'stdlib/spo.rlp', 'stdlib/dapo.rlp', 'stdlib/dpo.rlp']).pipelines;
const notes = (name: string) => samplingNotes(pipelines.find((p) => p.name === name)!.ir);

describe('sampling notes of an export', () => {
  it('summarizes the rollout with its params and their defaults', () => {
    expect(notes('grpo').summary).toBe('rollout(n = group (8))');
    expect(notes('grpo').notExported).toEqual([]);
  });

  it('lists the features that need rlp\'s generator', () => {
    expect(notes('spo').notExported).toEqual(['continuations from segment cuts (SPO values `value_start`/`value_end`)']);
    expect(notes('dapo').notExported.join()).toMatch(/dynamic sampling/);
  });

  it('says when there is no sample stage', () => {
    expect(notes('dpo')).toEqual({ summary: 'none (the pipeline has no sample stage)', notExported: [], span: null });
  });
});
