/** The pass registry and the default optimization pipeline. CSE needs no pass: the IR is hash-consed. */
import { dce } from './dce.js';
import type { Pass } from './define.js';
import { foldConstants } from './fold-constants.js';

export const PASSES: readonly Pass[] = Object.freeze([foldConstants, dce]);

/** The passes `rlp compile` runs, in order. */
export const DEFAULT_PIPELINE: readonly Pass[] = Object.freeze([foldConstants, dce]);
