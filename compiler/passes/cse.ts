/**
 * Common-subexpression elimination. The builder hash-conses, so a fresh graph has no duplicate;
 * rewrites can create some, and commutative ops can meet with swapped operands. This pass puts
 * the operands of commutative ops in id order and merges structurally equal pure nodes.
 */
import { opByName } from '../ops/index.js';
import { definePass } from './define.js';
import { rewriteGraph } from './rewrite.js';

export const cse = definePass({
  name: 'cse',
  summary: 'Merge structurally equal pure nodes (commutative operands in a canonical order).',
  run: (g) =>
    rewriteGraph(g, (n) => {
      const op = opByName(n.op);
      if (op?.traits.includes('commutative') === true && n.inputs.length === 2 && n.inputs[0]! > n.inputs[1]!) return { ...n, inputs: [n.inputs[1]!, n.inputs[0]!] };
      return n;
    }),
});
