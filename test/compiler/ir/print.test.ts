/** The textual IR of the standard pipelines is golden, and identical run to run. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { expectGolden } from '../../helpers/golden.js';

const rlp = (args: string[]) => spawnSync(process.execPath, ['runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('rlp compile --emit ir', () => {
  for (const name of ['grpo', 'dr_grpo', 'dpo']) {
    it(`prints the golden IR of stdlib/${name}.rlp`, () => {
      const r = rlp(['compile', `stdlib/${name}.rlp`, '--emit', 'ir']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expectGolden(`test/golden/${name}.ir`, r.stdout);
    });
  }

  it('prints byte-identical output on every run', () => {
    const runs = [0, 1, 2].map(() => rlp(['compile', 'stdlib/grpo.rlp', '--emit', 'ir']).stdout);
    expect(runs[0]!.length).toBeGreaterThan(100);
    expect(runs[1]).toBe(runs[0]);
    expect(runs[2]).toBe(runs[0]);
  });

  it('prints the same IR for a stdlib name as for its file', () => {
    expect(rlp(['compile', 'grpo']).stdout).toBe(rlp(['compile', 'stdlib/grpo.rlp']).stdout);
  });
});
