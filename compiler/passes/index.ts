/** The pass registry and the default optimization pipeline. */
import { cse } from './cse.js';
import { dce } from './dce.js';
import type { Pass } from './define.js';
import { foldConstants } from './fold-constants.js';
import { fuse } from './fuse.js';
import { paramSpecialize, paramSpecializeDefaults } from './param-specialize.js';
import { simplify } from './simplify.js';

/** Every pass, by name (`--dump-ir after:NAME`). `param-specialize` is listed with the params' defaults. */
export const PASSES: readonly Pass[] = Object.freeze([paramSpecializeDefaults, foldConstants, simplify, cse, dce, fuse]);

/** The passes `rlp compile` runs, in order: everything that holds for any param values. */
export const DEFAULT_PIPELINE: readonly Pass[] = Object.freeze([foldConstants, simplify, cse, dce, fuse]);

/** The passes for one run, whose params are known: specialize them first, then the default pipeline. */
export function runPipeline(params: ReadonlyMap<string, number | boolean>): readonly Pass[] {
  return [paramSpecialize(params), ...DEFAULT_PIPELINE];
}
