/** Resolving the reward functions a pipeline names: built-ins or a --rewards module's exports. */
import type { CompiledProgram } from '../exec/program.js';
import { BUILTIN_REWARD_FNS, type RewardFn } from '../rewards/builtins.js';
import { loadRewardModule } from '../rewards/module.js';
import { TrainError } from './options.js';

/** A resolved reward function and where it came from (`built-in` or the module's path). */
export type ResolvedRewards = Map<string, { fn: RewardFn; source: string }>;

/** The reward functions a pipeline reads (its reward stage's names), resolved. */
export async function rewardFunctions(program: CompiledProgram, module: string | null, timeoutMs?: number): Promise<ResolvedRewards> {
  const user = module === null ? new Map<string, RewardFn>() : await loadRewardModule(module, timeoutMs === undefined ? {} : { timeoutMs });
  let names = [...program.rewards.functions];
  // A sampling pipeline without a reward stage (it reads `reward` or `token_reward` directly) is
  // scored with the built-in `correct`, or a --rewards module's default export.
  if (names.length === 0 && program.rollout !== null) names = [user.has('reward') ? 'reward' : 'correct'];
  const out = new Map<string, { fn: RewardFn; source: string }>();
  for (const name of names) {
    const u = user.get(name);
    const b = BUILTIN_REWARD_FNS.find((x) => x.name === name);
    if (u !== undefined) out.set(name, { fn: u, source: module! });
    else if (b !== undefined) out.set(name, { fn: b.fn, source: 'built-in' });
    else throw new TrainError(`the reward stage names \`${name}\`, which is neither a built-in reward nor exported by ${module ?? 'a --rewards module'}`);
  }
  return out;
}
