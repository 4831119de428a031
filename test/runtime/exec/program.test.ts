/**
 * The compiled program: one artifact per pipeline and run that eval, run and the bench consume.
 * Each field is checked against the pipeline's source text (read here), not against the IR.
 */
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { formatRange } from '../../../compiler/ir/param-range.js';
import { declaredInputsRead } from '../../../runtime/cli/commands/run.js';
import { lowerProgram, ProgramError } from '../../../runtime/exec/program.js';
import { stdlibPipeline } from '../../helpers/stdlib-harness.js';

const BGT = ['B', 'G', 'T'];

describe('the program of grpo', () => {
  const program = lowerProgram(stdlibPipeline('grpo'));

  it('names its params with their declared types, ranges, choices and the values it runs with', () => {
    const byName = new Map(program.params.map((p) => [p.name, p]));
    expect(byName.get('group')).toMatchObject({ type: 'int', default: 8, value: 8 });
    expect(formatRange(byName.get('group')!.range!)).toBe('[1, 4096]');
    expect(byName.get('singleton_verl')).toMatchObject({ type: 'bool', value: false });
    expect(byName.get('agg')!.choices).toContain('token-sum');
    expect(byName.get('agg')!.value).toBe('seq-mean-token-mean');
    expect(program.values.get('clip_low')).toBe(0.2);
    expect(program.values.has('agg')).toBe(false);
  });

  it('evaluates the rollout with the params: defaults, or the --set values', () => {
    // grpo's own settings, and the rollout op's documented defaults for the rest.
    expect(program.rollout).toEqual({
      n: 8, temperature: 1, topP: 1, maxTokens: 64, dynamic: false, stop: '', suffixes: [], reset: 0, resetFrom: 'answer',
      hintFrom: '', hintText: ' hint:', continuations: 0, segment: 4,
    });
    const set = lowerProgram(stdlibPipeline('grpo'), { set: { group: '4', max_tokens: '5', temperature: '0.5' } });
    expect(set.rollout).toMatchObject({ n: 4, maxTokens: 5, temperature: 0.5 });
    expect(set.values.get('group')).toBe(4);
  });

  it('lists the standard inputs it reads, its reward functions and reward stage', () => {
    const read = program.inputs.filter((i) => i.read).map((i) => i.name).sort();
    expect(read).toEqual(['logp', 'mask', 'old_logp', 'ref_logp']);
    for (const i of program.inputs) expect(i).toMatchObject({ declared: false, dtype: 'f32', dims: BGT });
    expect(program.reads('logp')).toBe(true);
    expect(program.reads('values')).toBe(false);
    expect(program.rewards).toEqual({ functions: ['correct'], stage: 'reward.reward' });
    expect(program.feedable.has('reward_fn.correct')).toBe(true);
  });

  it('describes its outputs: stage, dims, and which depend on the policy', () => {
    expect(program.output('advantage.A')).toMatchObject({ stage: 'advantage', dtype: 'f32', dims: ['B', 'G'], policy: false, batchLevel: true });
    expect(program.output('reward.reward')).toMatchObject({ stage: 'reward', dims: ['B', 'G'], batchLevel: true });
    expect(program.output('loss.ratio')).toMatchObject({ stage: 'loss', dims: BGT, policy: true, batchLevel: false });
    expect(program.output('loss.tokens')).toMatchObject({ dims: [], policy: false, batchLevel: true });
    expect(program.output('loss')).toMatchObject({ stage: 'loss', dims: [], policy: true, batchLevel: false });
    expect(program.metrics).toEqual({ advantage: 'advantage.A', ratio: 'loss.ratio', fractions: [], preference: { chosen: null, rejected: null, margin: null } });
    expect(program.state).toEqual([]);
  });

  it('builds each stage plan once, and says what a plan still needs fed', () => {
    const plan = program.plan(['reward_fn.correct'], ['reward.reward']);
    expect(program.plan(['reward_fn.correct'], ['reward.reward'])).toBe(plan);
    expect(program.unfed(plan)).toEqual([]);
    const loss = program.plan(['reward'], ['loss']);
    expect(program.unfed(loss).sort()).toEqual(['logp', 'mask', 'old_logp', 'ref_logp']);
    expect(program.unfed(program.plan([], ['reward.reward']))).toEqual(['reward_fn.correct']);
  });

  it('is built on the optimized IR, the checked IR at O0, or the IR specialized to its params', () => {
    const p = stdlibPipeline('grpo');
    expect(program.graph).toBe(p.ir);
    expect(program.level).toBe('default');
    expect(lowerProgram(p, { level: 'O0' }).graph).toBe(p.raw);
    const params = (g: typeof p.raw): number => g.ordered().filter((n) => n.op === 'param').length;
    expect(params(p.ir)).toBeGreaterThan(0);
    const spec = lowerProgram(p, { level: 'specialize', set: { group: '4' } });
    expect(params(spec.graph)).toBe(0);
    expect(spec.graph.ordered().some((n) => n.op.includes('fused'))).toBe(true);
    // The sample stage's settings survive specialization as constants.
    expect(spec.rollout).toMatchObject({ n: 4, maxTokens: 64 });
  });

  it('rejects an unknown param or a value outside its type or range, as a ProgramError', () => {
    const p = stdlibPipeline('grpo');
    expect(() => lowerProgram(p, { set: { gruop: '4' } })).toThrow(ProgramError);
    expect(() => lowerProgram(p, { set: { gruop: '4' } })).toThrow(/`gruop` is not a param of `grpo`; its params are group, /);
    expect(() => lowerProgram(p, { set: { group: 'many' } })).toThrow('param `group` is `int`, but `many` is not one');
    expect(() => lowerProgram(p, { set: { group: '0' } })).toThrow('param `group` is set to 0, outside its range [1, 4096]');
  });

  it('takes a choice param as the compilation picked it', () => {
    const picked = compileFiles(['stdlib/grpo.rlp'], { set: { agg: 'token-sum' } }).pipelines.find((x) => x.name === 'grpo')!;
    const prog = lowerProgram(picked, { set: { agg: 'token-sum' } });
    expect(prog.params.find((x) => x.name === 'agg')!.value).toBe('token-sum');
  });
});

describe('the program of other pipelines', () => {
  it('dpo: no sample stage, no reward stage, its chosen/rejected rewards as metrics', () => {
    const program = lowerProgram(stdlibPipeline('dpo'));
    expect(program.rollout).toBeNull();
    expect(program.rewards).toEqual({ functions: [], stage: null });
    expect(program.metrics.preference).toEqual({ chosen: 'loss.chosen_reward', rejected: 'loss.rejected_reward', margin: null });
    expect(program.metrics.advantage).toBeNull();
    expect(program.output('loss.chosen_reward')).toMatchObject({ dims: ['B'], policy: true, batchLevel: false });
    expect(program.inputs.map((i) => i.name).sort()).toEqual(['logp', 'mask', 'ref_logp']);
  });

  it('ghpo: string params reach the rollout (defaults, then --set)', () => {
    expect(lowerProgram(stdlibPipeline('ghpo')).rollout).toMatchObject({ hintFrom: 'answer', hintText: ' hint:' });
    expect(lowerProgram(stdlibPipeline('ghpo'), { set: { hint_column: 'solution' } }).rollout).toMatchObject({ hintFrom: 'solution' });
  });

  it('bnpo_decomposed: a declared input, with its dims and doc, read by the computation (rlp run refuses it)', () => {
    const program = lowerProgram(stdlibPipeline('bnpo_decomposed'));
    const c = program.inputs.find((i) => i.name === 'components')!;
    expect(c).toMatchObject({ declared: true, read: true, dtype: 'f32', dims: ['B', 'G', 'C'] });
    expect(c.doc).toContain('reward components');
    expect(declaredInputsRead(program)).toEqual(['components']);
    expect(declaredInputsRead(lowerProgram(stdlibPipeline('grpo')))).toEqual([]);
  });

  it('hapo: state with its dims, initial value and update output; a declared input', () => {
    const program = lowerProgram(stdlibPipeline('hapo'));
    expect(program.state).toEqual([{ name: 'h', dtype: 'f32', dims: ['P'], init: 1e9, update: 'update.h' }]);
    expect(program.output('update.h')).toMatchObject({ stage: 'update', dims: ['P'], batchLevel: false });
    expect(program.inputs.find((i) => i.name === 'prompt')).toMatchObject({ declared: true, dims: ['B', 'P'] });
  });

  it('grpo_tis: its scalar `frac_*` loss binding is a metric, computed once per batch', () => {
    const program = lowerProgram(stdlibPipeline('grpo_tis'));
    expect(program.metrics.fractions).toEqual(['loss.frac_truncated']);
    expect(program.output('loss.frac_truncated')).toMatchObject({ dims: [], batchLevel: true });
  });

  it('ppo_max: scalar state variables, each updated', () => {
    const program = lowerProgram(stdlibPipeline('ppo_max'));
    expect(program.state.map((s) => [s.name, s.dims, s.init, s.update])).toEqual([['n', [], 0, 'update.n'], ['mu', [], 0, 'update.mu'], ['m2', [], 0, 'update.m2']]);
    expect(program.reads('values')).toBe(true);
  });
});
