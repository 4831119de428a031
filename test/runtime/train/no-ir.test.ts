/**
 * The trainer consumes the compiled program (runtime/exec/program.ts) and never inspects the IR:
 * no file of runtime/train imports the compiler, builds plans from a graph, or walks nodes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = 'runtime/train';
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

/** What reading the IR looks like: a graph, its nodes, its node order, a pipeline's `.ir`. */
const IR_ACCESS = /\.ir\b|IrGraph|IrNode|ordered\(\)|\.node\(|\.outputs\.find|meta\.(params|state|inputs|pipeline)/;

describe('the trainer and the IR', () => {
  it('has files to check', () => {
    expect(files).toEqual(expect.arrayContaining(['loop.ts', 'rl-step.ts', 'step.ts', 'collect.ts', 'settings.ts']));
  });

  for (const f of files) {
    it(`${f} imports nothing from the compiler nor the plan builder, and reads no IR`, () => {
      const text = readFileSync(join(dir, f), 'utf8');
      const imports = [...text.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!);
      expect(imports.filter((i) => i.includes('/compiler/') || i.endsWith('exec/plan.js'))).toEqual([]);
      const lines = text.split('\n').filter((l) => IR_ACCESS.test(l));
      expect(lines).toEqual([]);
    });
  }
});
