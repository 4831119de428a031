/** Which charts a report draws from the logged metrics, and tokens per second. */
import { describe, expect, it } from 'vitest';
import { chartSpecs, tokensPerSecond } from '../../../runtime/report/charts.js';

describe('chartSpecs', () => {
  const rows: Record<string, number>[] = [
    { step: 1, reward: 0.5, reward_std: 0.1, 'rewards/correct/mean': 0.5, kl: 0, loss: 1, grad_norm: 2, num_tokens: 100, step_time: 2, 'state/ema': 3 },
    { step: 2, reward: 0.7, reward_std: 0.2, 'rewards/correct/mean': 0.7, kl: 0.1, loss: 0.5, grad_norm: 1, num_tokens: 300, step_time: 4, 'state/ema': 4, 'prefix/shared_ratio': 0.5 },
  ];

  it('draws the named charts in order, then the other metrics by prefix', () => {
    expect(chartSpecs(rows).map((c) => c.title)).toEqual(['reward', 'reward functions (mean)', 'KL to the reference', 'loss', 'gradient norm', 'throughput (tokens/s)', 'prefix', 'state']);
  });

  it('gives every series one value per row, null where a row lacks it', () => {
    const reward = chartSpecs(rows)[0]!;
    expect(reward.series).toEqual([{ label: 'reward', values: [0.5, 0.7] }, { label: 'reward_std', values: [0.1, 0.2] }]);
    expect(chartSpecs(rows).find((c) => c.title === 'prefix')!.series[0]!.values).toEqual([null, 0.5]);
  });

  it('computes tokens per second from the cumulative token count and each step\'s time', () => {
    expect(tokensPerSecond(rows)).toEqual([50, 50]);
    expect(tokensPerSecond([{ step: 1, num_tokens: 10 }])).toEqual([null]);
  });

  it('draws nothing for no metrics', () => {
    expect(chartSpecs([])).toEqual([]);
  });
});
