/** TRL's clip-ratio metrics, on hand-worked batches. */
import { describe, expect, it } from 'vitest';
import { clipRatios } from '../../../runtime/train/clip.js';

describe('clip-ratio metrics', () => {
  // One prompt, two completions of R = 3 tokens; the second has 2 tokens (its last is padding).
  const mask = [1, 1, 1, 1, 1, 0];
  it('counts tokens beyond the clip on the side that cuts the gradient, per token', () => {
    const ratio = { values: [0.7, 0.9, 1.3, 0.5, 1.25, 9], dims: ['B', 'G', 'T'] };
    // Completion 0 has A < 0: only ratios below 0.8 count (0.7); 1.3 is above but A < 0.
    // Completion 1 has A > 0: only ratios above 1.2 count (1.25); 0.5 is below but A > 0; 9 is padding.
    const A = { values: [-1, 2], dims: ['B', 'G'] };
    const m = clipRatios(ratio, A, mask, 3, 0.2, 0.2);
    expect(m.low).toBeCloseTo(1 / 5, 12);
    expect(m.high).toBeCloseTo(1 / 5, 12);
    expect(m.region).toBeCloseTo(2 / 5, 12);
  });

  it('broadcasts a sequence ratio over its tokens (GSPO) and uses separate low and high clips', () => {
    const ratio = { values: [0.9996, 1.0005], dims: ['B', 'G'] };
    const A = { values: [-1, -1, -1, 1, 1, 1], dims: ['B', 'G', 'T'] };
    const m = clipRatios(ratio, A, mask, 3, 3e-4, 4e-4);
    expect(m).toEqual({ low: 3 / 5, high: 2 / 5, region: 1 });
  });

  it('is 0 when nothing is clipped or there are no tokens', () => {
    const ratio = { values: [1, 1, 1, 1, 1, 1], dims: ['B', 'G', 'T'] };
    const A = { values: [-1, 1], dims: ['B', 'G'] };
    expect(clipRatios(ratio, A, mask, 3, 0.2, 0.2)).toEqual({ low: 0, high: 0, region: 0 });
    expect(clipRatios(ratio, A, [0, 0, 0, 0, 0, 0], 3, 0.2, 0.2)).toEqual({ low: 0, high: 0, region: 0 });
  });
});
