/**
 * The verl adapter, called as verl calls it (flat [N, T] rows in a shuffled order, grouped by a
 * prompt index; verl's registry stubbed), gives the plain functions' numbers on the [B, G, T]
 * batch, for every standard pipeline with an advantage stage; pipelines that read what verl does
 * not pass stop with an error naming it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFiles, type CompiledPipeline } from '../../../compiler/compile.js';
import { exportTorch, unfusedGraph } from '../../../compiler/torch/export.js';
import { rng } from '../../helpers/random-batch.js';
import { makeBatch } from '../../helpers/stdlib-harness.js';
import { extraFeeds, feedValue } from '../../helpers/torch-cases.js';
import { PYTHON, pyCompile, runPython, torchTestsRun, writeModule, type PyTensor } from '../../helpers/torch.js';

const files = readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).map((f) => `stdlib/${f}`);
const withAdvantage = compileFiles(files).pipelines.filter((p) => p.ir.outputs.some((o) => o.name.startsWith('advantage.')));

/**
 * What verl passes: estimators get rewards (the reward stage's `reward`: verl's reward manager
 * computes it), the mask and baselines; losses the log-probs, one advantage per token, the mask,
 * and the sampler's log-probs as rollout IS weights. ref_logp: not passed, but with
 * VERL_KL_IN_ACTOR verl's actor adds the KL penalty (the harness checks both).
 */
const FED_BY_VERL: Readonly<Record<string, ReadonlySet<string>>> = {
  compute_advantage: new Set(['reward', 'reward.reward', 'token_reward', 'mask', 'greedy_reward']),
  compute_loss: new Set(['logp', 'old_logp', 'ref_logp', 'mask', 'rollout_logp']),
  // State (hapo's history) lives across steps: verl passes none of it.
  compute_update: new Set(),
};
/** verl's names of what it does not pass (as the adapter's errors name them). */
const VERL_NAME: Readonly<Record<string, string>> = { old_logp: 'old_log_probs', ref_logp: 'ref_log_prob', old_values: 'values' };
/** What a function reads that verl does not give it: the loss gets one advantage (`advantages`), and the update's reward results are the reward function's. */
const verlCannotFeed = (p: CompiledPipeline): string[] =>
  exportTorch(p).functions.flatMap((f) => f.args.filter((a) => !FED_BY_VERL[f.fn]!.has(a.feed) && a.name !== 'advantages' && !(f.fn === 'compute_update' && a.feed.startsWith('reward.'))).map((a) => a.feed))
    .map((feed) => VERL_NAME[feed] ?? feed);

interface VerlResult {
  readonly error?: string;
  readonly kind?: string;
  readonly trace?: string;
  readonly registered?: string[];
  readonly advantage?: number;
  readonly advantage_scale?: number;
  readonly loss?: [number, number];
  readonly grad?: number;
  readonly grad_scale?: number;
  readonly metrics?: string[];
  readonly rows_differ?: boolean;
  readonly kl_refused?: boolean;
}

describe('the verl adapter', () => {
  const B = 3;
  const G = 4;
  const T = 5;
  let results: VerlResult[] = [];
  let stateOutside: VerlResult = {};
  beforeAll(() => {
    if (!torchTestsRun()) return;
    const b = makeBatch({ B, G, T, seed: 41, lengths: [5, 0, 3, 1, 2, 5, 4, 4, 1, 3, 5, 2], reward: (r) => 2 * r() - 1 });
    const r = rng(7);
    const perm = Array.from({ length: B * G }, (_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    const names = ['logp', 'old_logp', 'ref_logp', 'mask', 'token_reward', 'greedy_reward', 'old_values', 'values', 'value_start', 'value_end'];
    const std = Object.fromEntries(names.map((n) => [n, feedValue(b, n)!])) as Record<string, PyTensor>;
    const cases = withAdvantage.map((p) => {
      const e = exportTorch(p, 'verl');
      const extra = extraFeeds(unfusedGraph(p), b);
      const inputs = { ...std, ...Object.fromEntries(Object.keys(extra).map((k) => [k, feedValue(b, k, extra)!])) };
      const calls = e.functions.filter((f) => f.fn !== 'compute_update').map((f) => ({ fn: f.fn, args: Object.fromEntries(f.args.map((a) => [a.name, a.feed])) }));
      const rollout = e.functions.some((f) => f.fn === 'compute_loss' && f.args.some((a) => a.feed === 'rollout_logp'));
      return { module: writeModule(`${p.name}_verl`, e.code), name: p.name, inputs, perm, calls, rollout_correction: rollout };
    });
    // hapo again, its history kept outside verl (VERL_STATE_OUTSIDE): then it runs.
    const hapo = cases[withAdvantage.findIndex((p) => p.name === 'hapo')]!;
    const all = [...cases, { ...hapo, set: { VERL_STATE_OUTSIDE: true } }];
    const out = (runPython('test/helpers/torch_verl.py', { cases: all }) as { results: VerlResult[] }).results;
    results = out.slice(0, cases.length);
    stateOutside = out[cases.length]!;
  }, 120_000);

  it('covers every standard pipeline with an advantage stage', () => {
    expect(withAdvantage.map((p) => p.name)).toEqual(expect.arrayContaining(['grpo', 'dr_grpo', 'dapo', 'rloo', 'remax', 'ppo', 'reinforce_pp']));
  });

  withAdvantage.forEach((p, i) => {
    const missing = [...new Set(verlCannotFeed(p))];
    if (missing.length > 0) {
      it.runIf(torchTestsRun())(`${p.name} stops with an error naming what verl does not pass (${missing.join(', ')})`, () => {
        const r = results[i]!;
        expect(r.kind, r.trace).toBe('ValueError');
        expect(missing.some((m) => r.error!.includes(`\`${m}\``))).toBe(true);
        expect(r.error).toMatch(/which verl does not pass/);
      });
      return;
    }
    it.runIf(torchTestsRun())(`${p.name} registers rlp_${p.name} and matches the plain functions on shuffled, grouped rows, unless its loss needs each row's prompt`, () => {
      const r = results[i]!;
      expect(r.rows_differ, r.trace).toBeDefined();
      if (r.rows_differ === true) {
        // The loss changes when rows are [N, 1, T]: verl's policy losses get no prompt index, so it must stop.
        expect(r.kind, r.trace).toBe('ValueError');
        expect(r.error).toMatch(/reads `index`, which verl does not pass/);
        return;
      }
      expect(r.error, r.trace).toBeUndefined();
      expect(r.registered).toEqual([`loss:rlp_${p.name}`, `rlp_${p.name}`]);
      expect(r.advantage!).toBeLessThanOrEqual(1e-12 * Math.max(1, r.advantage_scale!));
      const [got, want] = r.loss!;
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
      expect(r.grad!).toBeLessThanOrEqual(1e-12 * Math.max(1, r.grad_scale!));
      expect(r.metrics!.length).toBeGreaterThan(0);
      // verl passes policy losses no ref_log_prob: a loss that reads ref_logp stops unless VERL_KL_IN_ACTOR.
      const readsRef = exportTorch(p).functions.some((f) => f.fn === 'compute_loss' && f.args.some((a) => a.feed === 'ref_logp'));
      expect(r.kl_refused).toBe(readsRef ? true : undefined);
    });
  });

  it.runIf(torchTestsRun())('runs the pipelines it can, and stops only losses that need each row\'s prompt', () => {
    const stopped = withAdvantage.filter((p, i) => verlCannotFeed(p).length === 0 && results[i]!.rows_differ === true).map((p) => p.name);
    expect(stopped).toEqual(expect.arrayContaining(['reg_grpo']));
    expect(stopped).not.toContain('grpo');
    expect(stopped).not.toContain('otc_grpo');
    expect(withAdvantage.filter((p, i) => results[i]!.error === undefined).map((p) => p.name)).toEqual(expect.arrayContaining(['grpo', 'grpo_tis', 'grpo_icepop', 'opo', 'p3o']));
  });

  it.runIf(torchTestsRun())('runs a pipeline with state when VERL_STATE_OUTSIDE says the reward function keeps it (hapo)', () => {
    const r = stateOutside;
    expect(r.error, r.trace).toBeUndefined();
    expect(r.advantage!).toBeLessThanOrEqual(1e-12 * Math.max(1, r.advantage_scale!));
    const [got, want] = r.loss!;
    expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
    expect(r.grad!).toBeLessThanOrEqual(1e-12 * Math.max(1, r.grad_scale!));
  });

  it.runIf(torchTestsRun())('refuses rows without a prompt index, or groups of unequal size, with a clear error', () => {
    const grpo = withAdvantage.find((p) => p.name === 'grpo')!;
    const module = writeModule('grpo_verl_errors', exportTorch(grpo, 'verl').code);
    const script = [
      'import importlib.util, torch',
      `spec = importlib.util.spec_from_file_location("m", ${JSON.stringify(module)})`,
      'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)',
      'r, mask = torch.ones(5, 3), torch.ones(5, 3)',
      'for index in (None, ["a", "a", "b", "b", "b"]):',
      '    try:',
      '        m.rlp_grpo_advantage(token_level_rewards=r, response_mask=mask, index=index)',
      '    except ValueError as e:',
      '        print(e)',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual([
      "rlp: verl passed no `index` (each row's prompt uid); this pipeline needs its groups",
      'rlp: every prompt needs the same number of responses (rollout.n); found group sizes [2, 3]',
    ]);
  });

  it('for grpo compiles without verl installed and registers nothing then', () => {
    const grpo = withAdvantage.find((p) => p.name === 'grpo')!;
    expect(pyCompile(writeModule('grpo_verl', exportTorch(grpo, 'verl').code))).toBeNull();
  });
});
