/** The training loop: reproducible from a seed, resumable exactly, and a dry run that only validates. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFiles, type CompiledPipeline } from '../../../compiler/compile.js';
import { lowerProgram } from '../../../runtime/exec/program.js';
import { charTokenizer } from '../../../runtime/policy/tokenizer.js';
import { arithmetic } from '../../../runtime/tasks/index.js';
import { promptSource, train, type Metrics, type TrainOptions } from '../../../runtime/train/loop.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-loop-'));
const src = join(dir, 'len.rlp');
// A reward that varies from the first step (an untrained policy never answers correctly): a
// module's `length` (it shadows the built-in) counts the digits of a completion.
writeFileSync(src, 'import "std/grpo"\n\npipeline grpo_len extends grpo {\n  reward { reward = 0.1 * length }\n}\n');
const rewards = join(dir, 'digits.mjs');
writeFileSync(rewards, 'export function length({ completions }) { return completions.map((c) => (c.match(/[0-9]/g) ?? []).length); }\n');
const pipeline = compileFiles([src]).pipelines.find((p) => p.name === 'grpo_len')!;

/** A run's options; `pipeline` (default grpo_len) is lowered with the options' `set`, as `rlp run` does. */
function options(out: string, steps: number, extra: Partial<TrainOptions> & { pipeline?: CompiledPipeline } = {}): TrainOptions {
  const { pipeline: p = pipeline, ...rest } = extra;
  const set = rest.set ?? { group: '4', max_tokens: '5', temperature: '1.0' };
  return {
    program: lowerProgram(p, { set }), task: arithmetic, data: null, steps, prompts: 2, backend: 'cpu', seed: 11, out,
    set, resume: false, rewardsModule: rewards, lr: 0.01,
    saveEvery: 2, microBatches: 1, dryRun: false, init: null, log: () => {}, ...rest,
  };
}

const withoutTime = (ms: Metrics[]) => ms.map(({ step_time: _, ...rest }) => rest);

/** Write a .rlp file of these lines into the test folder and compile its first pipeline. */
function pipelineFrom(name: string, lines: readonly string[]) {
  const file = join(dir, `${name}.rlp`);
  writeFileSync(file, [...lines, ''].join('\n'));
  return compileFiles([file]).pipelines[0]!;
}

describe('rlp run', () => {
  it('gives identical metrics for 3 steps from the same seed', async () => {
    const a = await train(options(join(dir, 'a'), 3));
    const b = await train(options(join(dir, 'b'), 3));
    expect(a).toHaveLength(3);
    expect(withoutTime(b)).toEqual(withoutTime(a));
    expect(a.some((m) => m['grad_norm']! > 0)).toBe(true);
    expect(Object.keys(a[0]!)).toEqual(expect.arrayContaining(['loss', 'reward', 'reward_std', 'rewards/length/mean', 'frac_reward_zero_std', 'kl', 'completions/mean_length', 'grad_norm', 'learning_rate', 'num_tokens', 'step_time', 'entropy', 'prefix/shared_ratio', 'prefix/packed_tokens', 'prefix/raw_tokens', 'clip_ratio/low_mean', 'clip_ratio/high_mean']));
    const m = a[0]!;
    // A fresh policy over a vocabulary of V tokens is close to uniform: entropy near log V.
    expect(m['entropy']!).toBeGreaterThan(0);
    expect(m['entropy']!).toBeLessThanOrEqual(Math.log(charTokenizer().vocabSize) + 1e-4);
    expect(m['prefix/packed_tokens']!).toBeLessThanOrEqual(m['prefix/raw_tokens']!);
    expect(m['prefix/shared_ratio']).toBeCloseTo(1 - m['prefix/packed_tokens']! / m['prefix/raw_tokens']!, 12);
    const lines = readFileSync(join(dir, 'a', 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as Metrics)['step'])).toEqual([1, 2, 3]);
  });

  it('cycles a built-in task over its first --task-size problems, or draws new ones with size 0', async () => {
    const prompts = async (taskSize: number, cursor: number, preference = false) => {
      const s = await promptSource(options(join(dir, 'src'), 1, { taskSize }), cursor, [], preference);
      return (await s.take(7)).map((r) => r['prompt']);
    };
    const stream = Array.from({ length: 10 }, (_, i) => arithmetic.row(11, i).prompt);
    expect(await prompts(3, 0)).toEqual([0, 1, 2, 0, 1, 2, 0].map((i) => stream[i]));
    expect(await prompts(3, 2)).toEqual([2, 0, 1, 2, 0, 1, 2].map((i) => stream[i]));
    expect(await prompts(0, 1)).toEqual(stream.slice(1, 8));
    // The preference task pairs the same problems with a wrong answer.
    const s = await promptSource(options(join(dir, 'src'), 1, { taskSize: 2 }), 0, [], true);
    const rows = await s.take(4);
    expect(rows.map((r) => r['prompt'])).toEqual([0, 1, 0, 1].map((i) => stream[i]));
    expect(rows[2]).toEqual(rows[0]);
    expect(s.fingerprint).toContain('size2');
  });

  it('trains with every sampling extra of the rollout and feeds their standard inputs', async () => {
    // Reads every standard input the extras feed: forced, variant, hint_level, value_start, value_end.
    const p = pipelineFrom('extras', [
      'import "std/grpo"',
      'pipeline all_extras extends grpo {',
      '  sample { rollout(n = group, max_tokens = max_tokens, suffixes = "<|>", reset = 0.5, hint_from = "answer", continuations = 2, segment = 2) }',
      '  advantage { A = value_end - value_start + 0 * variant + 0 * hint_level }',
      '  loss { minimize mean(mean(-exp(logp - old_logp) * A, over T, where mask), over [B, G]) + 0 * sum(forced, over [B, G, T]) }',
      '}',
    ]);
    expect(p.name).toBe('all_extras');
    const ms = await train(options(join(dir, 'extras'), 2, { pipeline: p, rewardsModule: null, set: { group: '4', max_tokens: '4' } }));
    expect(ms).toHaveLength(2);
    for (const m of ms) {
      expect(m['completions/mean_forced']!).toBeGreaterThanOrEqual(1);
      expect(m['spo/continuations']!).toBeGreaterThanOrEqual(0);
      expect(m['hints/groups']).toBeDefined();
      expect(Number.isFinite(m['loss'])).toBe(true);
    }
  });

  it('carries pipeline state from step to step with its update block, and through a resume', async () => {
    const p = compileFiles(['pipelines/running_baseline.rlp']).pipelines[0]!;
    const opts = (out: string, steps: number, extra: Partial<TrainOptions> = {}) =>
      options(out, steps, { pipeline: p, rewardsModule: null, prompts: 4, set: { group: '4' }, init: 'runtime/policy/pretrained/arithmetic', ...extra });
    const whole = await train(opts(join(dir, 'state-whole'), 4));
    // baseline_k = 0.9 baseline_{k-1} + 0.1 mean reward_k, from 0: the update reads the carried value.
    let b = 0;
    for (const m of whole) {
      b = 0.9 * b + 0.1 * m['reward']!;
      expect(m['state/baseline']).toBeCloseTo(b, 6);
    }
    expect(whole.some((m) => m['reward']! > 0)).toBe(true);
    await train(opts(join(dir, 'state-part'), 2, { saveEvery: 2 }));
    const resumed = await train(opts(join(dir, 'state-part'), 4, { resume: true }));
    expect(withoutTime(resumed)).toEqual(withoutTime(whole.slice(2)));
  });

  it('feeds the policy\'s entropy to a loss that reads it, inside the gradient', async () => {
    const p = pipelineFrom('ent', [
      'import "std/prelude"',
      'pipeline ent {',
      '  sample { rollout(n = 4, max_tokens = 4) }',
      '  reward { reward = correct }',
      '  loss {',
      '    tokens = sum(mask, over [B, G, T])',
      '    minimize token_mean(entropy, mask, tokens)',
      '  }',
      '}',
    ]);
    const ms = await train(options(join(dir, 'ent'), 2, { pipeline: p, rewardsModule: null, set: {} }));
    // The loss is the mean entropy over completion tokens: the logged `entropy`, computed apart.
    for (const m of ms) expect(m['loss']).toBeCloseTo(m['entropy']!, 5);
    expect(ms[0]!['grad_norm']!).toBeGreaterThan(0);
  });

  it('feeds a pipeline without a reward stage its reward as token_reward on the last token, and the step', async () => {
    const p = pipelineFrom('tokrew', [
      'import "std/prelude"',
      'pipeline tokrew {',
      '  sample { rollout(n = 4, max_tokens = 5) }',
      '  loss { minimize mean(sum(token_reward, over T, where mask), over [B, G]) + 1000 * float(step) + 0 * sum(logp, over [B, G, T], where mask) }',
      '}',
    ]);
    const ms = await train(options(join(dir, 'tokrew'), 3, { pipeline: p, rewardsModule: null, set: {}, prompts: 4, init: 'runtime/policy/pretrained/arithmetic' }));
    // Scored with the built-in `correct`; each completion's reward sits on one token; step counts from 0.
    ms.forEach((m, k) => {
      expect(m['rewards/correct/mean']).toBeDefined();
      expect(m['loss']!).toBeCloseTo(m['reward']! + 1000 * k, 4);
    });
    expect(ms.some((m) => m['reward']! > 0)).toBe(true);
  });

  it('stops with a clear message for a pipeline that needs a critic', async () => {
    const ppo = compileFiles(['stdlib/ppo.rlp']).pipelines[0]!;
    await expect(train(options(join(dir, 'ppo'), 1, { pipeline: ppo, rewardsModule: null, set: {} }))).rejects.toThrow(/reads `(old_)?values`, a critic's values: rlp run does not train a critic yet/);
  });

  it('resumes from a checkpoint exactly: the next steps equal an uninterrupted run', async () => {
    const whole = await train(options(join(dir, 'whole'), 4));
    await train(options(join(dir, 'part'), 2));
    const resumed = await train(options(join(dir, 'part'), 4, { resume: true }));
    expect(resumed.map((m) => m['step'])).toEqual([3, 4]);
    expect(withoutTime(resumed)).toEqual(withoutTime(whole.slice(2)));
    const lines = readFileSync(join(dir, 'part', 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as Metrics)['step'])).toEqual([1, 2, 3, 4]);
  });

  it('takes several optimizer passes per rollout batch with --epochs', async () => {
    const one = await train(options(join(dir, 'e1'), 2));
    const two = await train(options(join(dir, 'e2'), 2, { epochs: 2 }));
    // Step 1 samples with the same weights in both runs; step 2 samples after different updates.
    expect(two[0]!['loss']).toBe(one[0]!['loss']);
    expect(two[1]!['loss']).not.toBe(one[1]!['loss']);
    // TRL's clip metrics: one on-policy pass clips nothing; a second pass after a large step does.
    for (const m of one) expect([m['clip_ratio/low_mean'], m['clip_ratio/high_mean'], m['clip_ratio/region_mean']]).toEqual([0, 0, 0]);
    const passes = two.map((m) => m['clip_ratio/region_mean']!);
    expect(Math.max(...passes)).toBeGreaterThan(0);
    for (const m of two) expect(m['clip_ratio/region_mean']).toBeCloseTo(m['clip_ratio/low_mean']! + m['clip_ratio/high_mean']!, 12);
  });

  it('validates and writes the resolved config on a dry run, without training', async () => {
    const out = join(dir, 'dry');
    expect(await train(options(out, 30, { dryRun: true }))).toEqual([]);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg['pipeline']).toBe('grpo_len');
    expect(cfg['seed']).toBe(11);
    expect((cfg['params'] as Record<string, unknown>)['group']).toBe(4);
    expect(existsSync(join(out, 'latest'))).toBe(false);
  });

  it('stops with a clear message on an unknown param or a missing checkpoint', async () => {
    expect(() => options(join(dir, 'x'), 1, { set: { gruop: '4' } })).toThrow(/`gruop` is not a param of `grpo_len`/);
    await expect(train(options(join(dir, 'none'), 1, { resume: true }))).rejects.toThrow(/--resume: .*none does not exist/);
    mkdirSync(join(dir, 'empty'));
    await expect(train(options(join(dir, 'empty'), 1, { resume: true }))).rejects.toThrow(/holds no complete checkpoint/);
  });
});

describe('rlp run with a preference pipeline (dpo)', () => {
  const dpo = compileFiles(['stdlib/dpo.rlp']).pipelines.find((p) => p.name === 'dpo')!;

  it('trains on the built-in preference task and its reward accuracy rises', async () => {
    const ms = await train({ ...options(join(dir, 'dpo'), 12, { pipeline: dpo, set: {}, rewardsModule: null, prompts: 16, backend: 'wasm', lr: 1e-3, init: 'runtime/policy/pretrained/arithmetic' }) });
    expect(ms[0]!['rewards/accuracies']).toBe(0); // the policy starts as the reference: every margin is 0
    const last = ms.slice(-4);
    expect(last.reduce((a, m) => a + m['rewards/accuracies']!, 0) / 4).toBeGreaterThan(0.5);
    expect(last.reduce((a, m) => a + m['rewards/margins']!, 0) / 4).toBeGreaterThan(0);
  });

  it('trains on preference rows from JSONL and refuses prompt rows', async () => {
    const pref = join(dir, 'pref.jsonl');
    writeFileSync(pref, ['1+1=', '2+3='].map((p, i) => JSON.stringify({ prompt: p, chosen: ['2', '5'][i], rejected: ['3', '6'][i] })).join('\n') + '\n');
    const ms = await train({ ...options(join(dir, 'dpo-data'), 2, { pipeline: dpo, task: null, data: pref, set: {}, rewardsModule: null }) });
    expect(ms).toHaveLength(2);
    const prompts = join(dir, 'prompts.jsonl');
    writeFileSync(prompts, '{"prompt": "1+1=", "answer": "2"}\n');
    await expect(train({ ...options(join(dir, 'dpo-bad'), 1, { pipeline: dpo, task: null, data: prompts, set: {}, rewardsModule: null }) })).rejects.toThrow(/holds prompt rows/);
  });
});

describe('rlp run with remax', () => {
  it('scores each prompt’s greedy completion as the baseline (greedy_reward)', async () => {
    const remax = compileFiles(['stdlib/remax.rlp']).pipelines.find((p) => p.name === 'remax')!;
    const ms = await train({ ...options(join(dir, 'remax'), 2, { pipeline: remax, set: { group: '3', max_tokens: '5' }, rewardsModule: null, init: 'runtime/policy/pretrained/arithmetic', backend: 'wasm' }) });
    for (const m of ms) {
      expect(m['greedy_reward']).toBeGreaterThanOrEqual(0);
      expect(m['greedy_reward']).toBeLessThanOrEqual(1);
    }
    // The warm start answers most prompts right when greedy.
    expect(ms[0]!['greedy_reward']).toBeGreaterThan(0);
  });
});

describe('dynamic sampling (DAPO)', () => {
  it('drops groups whose rewards are all equal and refills from further prompts', async () => {
    const src2 = join(dir, 'dyn.rlp');
    writeFileSync(src2, 'import "std/dapo"\n\npipeline dapo_len extends dapo {\n  reward { reward = length }\n}\n');
    const constant = join(dir, 'constant.mjs');
    writeFileSync(constant, 'export function length({ completions }) { return completions.map(() => 1); }\n');
    const dyn = compileFiles([src2]).pipelines.find((p) => p.name === 'dapo_len')!;
    const flat = await train({ ...options(join(dir, 'dyn-flat'), 1, { pipeline: dyn, rewardsModule: constant }) });
    expect(flat[0]!['dynamic/rounds']).toBe(4);
    expect(flat[0]!['dynamic/dropped_groups']).toBe(8); // 2 prompts x 4 rounds, none informative
    const varied = await train({ ...options(join(dir, 'dyn-varied'), 1, { pipeline: dyn, rewardsModule: rewards }) });
    expect(varied[0]!['dynamic/dropped_groups']).toBeLessThan(8);
    const off = await train({ ...options(join(dir, 'dyn-off'), 1, { pipeline: dyn, rewardsModule: constant, set: { ...options('', 1).set, dynamic_sampling: 'false' } }) });
    expect(off[0]!['dynamic/rounds']).toBeUndefined();
  });
});

describe('stop strings', () => {
  it('end a completion once its text ends with the sample stage’s stop string', async () => {
    const src3 = join(dir, 'stop.rlp');
    writeFileSync(src3, 'import "std/prelude"\n\npipeline stopper {\n  params { group: int = 6 }\n  sample { rollout(n = group, temperature = 1.5, max_tokens = 12, stop = "1") }\n  reward { reward = length }\n  advantage { A = group_advantage(reward, 1e-6, false) }\n  loss {\n    seqs = count(reward, over [B, G])\n    minimize seq_mean_token_mean(-A * logp, mask, seqs)\n  }\n}\n');
    const seen = join(dir, 'seen.json');
    const spy = join(dir, 'spy.mjs');
    writeFileSync(spy, `import { appendFileSync } from 'node:fs';\nexport function length({ completions }) { appendFileSync(${JSON.stringify(seen)}, JSON.stringify(completions) + '\\n'); return completions.map((c) => c.length); }\n`);
    const stopper = compileFiles([src3], { rewards: ['length'] }).pipelines.find((p) => p.name === 'stopper')!;
    await train({ ...options(join(dir, 'stop'), 2, { pipeline: stopper, rewardsModule: spy, set: {} }) });
    const texts = readFileSync(seen, 'utf8').trim().split('\n').flatMap((l) => JSON.parse(l) as string[]);
    expect(texts.length).toBeGreaterThan(0);
    for (const t of texts) expect(!t.includes('1') || (t.endsWith('1') && t.indexOf('1') === t.length - 1), JSON.stringify(t)).toBe(true);
    expect(texts.some((t) => t.endsWith('1'))).toBe(true);
  });
});
