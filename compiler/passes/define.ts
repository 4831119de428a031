/** The shape of an IR pass: a named, deterministic graph -> graph rewrite. */
import type { IrGraph } from '../ir/graph.js';

export interface Pass {
  /** kebab-case name, used by `--dump-ir after:NAME`. */
  readonly name: string;
  readonly summary: string;
  run(g: IrGraph): IrGraph;
}

/** Freeze and return a pass. */
export function definePass(p: Pass): Pass {
  return Object.freeze(p);
}
