/** The depth limit on expression trees, checked after parsing. */
import { forEachChild, type Expr, type FileNode, type Member } from './ast.js';

/** The deepest expression tree the later phases accept (they recurse over it). */
export const MAX_EXPR_DEPTH = 200;

/** The first expression nested deeper than MAX_EXPR_DEPTH, found without recursion. */
export function findTooDeep(ast: FileNode): Expr | null {
  const roots: Expr[] = [];
  const addMembers = (ms: readonly Member[]): void => {
    for (const m of ms) if (m.kind !== 'Binding') roots.push(m.value);
    else if (m.value !== null) roots.push(m.value);
  };
  for (const item of ast.items) {
    if (item.kind === 'Pipeline') for (const b of item.blocks) addMembers(b.members);
    else if (item.kind === 'Fn') addMembers(item.body);
  }
  for (const root of roots) {
    const stack: Array<[Expr, number]> = [[root, 1]];
    while (stack.length > 0) {
      const [e, d] = stack.pop()!;
      if (d > MAX_EXPR_DEPTH) return e;
      // The left operand of a binary operator continues its chain (`a + b + c`): a flat chain is not nesting.
      forEachChild(e, (c) => stack.push([c, e.kind === 'Binary' && c === e.left && c.kind === 'Binary' ? d : d + 1]));
    }
  }
  return null;
}

