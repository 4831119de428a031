/**
 * Param specialization: a run's params are constants. Every numeric or boolean `param` node
 * becomes a `const` of the run's value (the pass is made for one run's values); folding,
 * `select` resolution and dead-code elimination then remove what the values switch off.
 */
import type { IrGraph } from '../ir/graph.js';
import type { Pass } from './define.js';
import { definePass } from './define.js';
import { rewriteGraph } from './rewrite.js';

/** The pass for these param values (params missing from `values` take their defaults). */
export function paramSpecialize(values: ReadonlyMap<string, number | boolean>): Pass {
  return definePass({
    name: 'param-specialize',
    summary: "Replace the run's params by constants of their values.",
    run: (g: IrGraph) =>
      rewriteGraph(g, (n) => {
        if (n.op !== 'param') return n;
        const name = String(n.attrs['name']);
        const v = values.get(name) ?? g.meta.params.find((p) => p.name === name)?.default;
        if (typeof v !== 'number' && typeof v !== 'boolean') return n;
        return { ...n, op: 'const', inputs: [], attrs: { value: v } };
      }),
  });
}

/** The same pass, named, for the registry (`--dump-ir after:param-specialize`): with the defaults. */
export const paramSpecializeDefaults = paramSpecialize(new Map());
