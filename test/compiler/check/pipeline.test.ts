/** Names in the reward stage: an unknown reward function without --rewards hints at --rewards. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';

const f = join(mkdtempSync(join(tmpdir(), 'rlp-rw-')), 'p.rlp');
writeFileSync(f, 'pipeline p {\n  reward { r = tool_success }\n  loss { minimize mean(r, over [B, G]) }\n}\n');

describe('unknown reward functions', () => {
  it('hint at --rewards when no module was given', () => {
    const d = compileFiles([f]).diagnostics;
    expect(d.map((x) => x.code)).toEqual(['RLP2008']);
    expect(d[0]!.help).toBe('if `tool_success` is a reward function of your own, name its module with `--rewards FILE.mjs` (rlp check, rlp run); the built-in rewards are `correct`, `format`, `length`');
  });

  it('do not hint at --rewards when a module was given', () => {
    const d = compileFiles([f], { rewards: ['tool_ok'] }).diagnostics;
    expect(d.map((x) => [x.code, x.help])).toEqual([['RLP2008', null]]);
  });
});
