/** The rollout settings a run samples with: the program's sample stage, checked against what the sampler can do. */
import type { RolloutSpec } from '../exec/program.js';
import type { RolloutSettings } from './collect.js';
import { TrainError } from './options.js';

/** The most completions per prompt a run samples. */
const MAX_GROUP = 1024;
/** The most tokens a completion may have (the policy's context bounds it further). */
const MAX_TOKENS = 4096;

/** The program's rollout settings, checked (null for a pipeline without a sample stage). */
export function rolloutSettings(spec: RolloutSpec | null): RolloutSettings | null {
  if (spec === null) return null;
  const s = spec;
  // Bounded before anything is allocated: a group of 1e8 would take gigabytes before failing.
  if (!(Number.isInteger(s.n) && s.n >= 1 && s.n <= MAX_GROUP)) throw new TrainError(`the rollout's n (completions per prompt) must be an integer in [1, ${MAX_GROUP}], found ${s.n}`);
  if (!(Number.isFinite(s.temperature) && s.temperature >= 0)) throw new TrainError(`the rollout's temperature must be a finite number >= 0 (0: greedy), found ${s.temperature}`);
  if (!(s.topP > 0 && s.topP <= 1)) throw new TrainError(`the rollout's top_p must be in (0, 1], found ${s.topP}`);
  if (!(Number.isInteger(s.maxTokens) && s.maxTokens >= 1 && s.maxTokens <= MAX_TOKENS)) throw new TrainError(`the rollout's max_tokens must be an integer in [1, ${MAX_TOKENS}], found ${s.maxTokens}`);
  if (s.suffixes.length > 0 && s.n % s.suffixes.length !== 0) {
    throw new TrainError(`the rollout's ${s.suffixes.length} suffixes split its n = ${s.n} samples into equal subgroups: n must be a multiple of ${s.suffixes.length}`);
  }
  if (!(s.reset >= 0 && s.reset <= 1)) throw new TrainError(`the rollout's reset is a probability, found ${s.reset}`);
  if (s.continuations < 0 || s.segment < 1) throw new TrainError(`the rollout's continuations must be >= 0 and segment >= 1, found ${s.continuations} and ${s.segment}`);
  return s;
}
