/** Param ranges: parsed with their brackets, checked against the default, `--set` in eval and run, shown by explain and the IR. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { formatRange, inRange } from '../../../compiler/ir/param-range.js';
import { printIr } from '../../../compiler/ir/print.js';
import { makeSource, span } from '../../../grammar/source.js';
import { parseFile } from '../../../grammar/parse.js';
import { validateBatch } from '../../../runtime/eval/validate.js';
import { resolveParams } from '../../../runtime/exec/program.js';

const SRC = `pipeline p {
  params {
    group: int = 8 in [1, 4096] "completions per prompt"
    clip_low: float = 0.2 in [0, 1) "lower clip"
    beta: float = 0.04 in (0, inf) "kl weight"
  }
  sample { rollout(n = group) }
  loss { minimize (clip_low + beta) * mean(logp, over [B, G, T], where mask) }
}
`;

function compile(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'rlp-range-'));
  const f = join(dir, 'p.rlp');
  writeFileSync(f, text);
  return { file: f, result: compileFiles([f]) };
}

describe('param ranges', () => {
  it('parse with inclusive and exclusive brackets', () => {
    const r = parseFile(makeSource('p.rlp', SRC));
    expect(r.problems).toEqual([]);
    const params = r.ast!.items[0]!.kind === 'Pipeline' ? r.ast!.items[0]!.blocks[0]!.members : [];
    const ranges = params.map((m) => (m.kind === 'Binding' && m.range !== null ? [m.range.loInclusive, m.range.hiInclusive] : null));
    expect(ranges).toEqual([[true, true], [true, false], [false, false]]);
  });

  it('reach the IR, its printed form and the JSON export', () => {
    const { result } = compile(SRC);
    expect(result.diagnostics).toEqual([]);
    const g = result.pipelines[0]!.raw;
    expect(g.meta.params.map((p) => (p.range === null ? null : formatRange(p.range)))).toEqual(['[1, 4096]', '[0, 1)', '(0, inf)']);
    expect(printIr(g).split('\n')[0]).toBe('pipeline p(group: int = 8 in [1, 4096], clip_low: float = 0.2 in [0, 1), beta: float = 0.04 in (0, inf)) {');
  });

  it('include or exclude each bound as written', () => {
    const r = { lo: 0, hi: 1, loInclusive: true, hiInclusive: false };
    expect([inRange(r, 0), inRange(r, 0.5), inRange(r, 1), inRange(r, -1e-9)]).toEqual([true, true, false, false]);
  });

  it('reject a default outside the range and are inherited by an override', () => {
    const { result } = compile(SRC + 'pipeline q extends p {\n  params { group: int = 0 }\n}\n');
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([['RLP3030', 'param `group` defaults to 0, outside its range [1, 4096]']]);
  });

  it('reject a --set value outside the range in eval', () => {
    const { result } = compile(SRC);
    const g = result.pipelines[0]!.raw;
    const at = span(makeSource('b.json', '{}'), 0, 0);
    const v = validateBatch(g, [], { set: { clip_low: '1' }, grad: [], allowNonfinite: false, fileSpan: at });
    expect(v.diagnostics.filter((d) => d.code === 'RLP6030').map((d) => d.message)).toEqual(['param `clip_low` is set to 1, outside its range [0, 1)']);
    const ok = validateBatch(g, [], { set: { clip_low: '0' }, grad: [], allowNonfinite: false, fileSpan: at });
    expect(ok.diagnostics.some((d) => d.code === 'RLP6030')).toBe(false);
  });

  it('reject a --set value outside the range in run', () => {
    const g = compile(SRC).result.pipelines[0]!.raw;
    expect(() => resolveParams(g, { group: '0' })).toThrow('param `group` is set to 0, outside its range [1, 4096]');
    expect(resolveParams(g, { group: '4096' }).get('group')).toBe(4096);
  });

  it('are shown by rlp explain', () => {
    const { file } = compile(SRC);
    const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'explain', file], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.stdout).toMatch(/group: int = 8 in \[1, 4096\]\s+completions per prompt/);
    expect(r.stdout).toMatch(/clip_low: float = 0\.2 in \[0, 1\)/);
  });

  it('are checked by rlp check', () => {
    const { file } = compile(SRC.replace('= 0.2 in', '= 1.5 in'));
    const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'check', file], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error[RLP3030]: param `clip_low` defaults to 1.5, outside its range [0, 1)');
  });
});
