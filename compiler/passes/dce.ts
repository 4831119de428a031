/** Dead-code elimination: keep what outputs and effects need. */
import { renumber } from '../ir/graph.js';
import { definePass } from './define.js';

export const dce = definePass({
  name: 'dce',
  summary: 'Drop nodes that no output and no effect depends on; renumber deterministically.',
  run: (g) => renumber(g.nodes, g.outputs, g.meta),
});
