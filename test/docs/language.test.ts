/** docs/language.md: every example that declares a pipeline or a function compiles as written, and every construct has an example. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../compiler/compile.js';

const md = readFileSync('docs/language.md', 'utf8');
const blocks = [...md.matchAll(/```rlp\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('docs/language.md', () => {
  it('has an example of every construct', () => {
    const all = blocks.join('\n');
    for (const construct of ['import ', 'pipeline ', 'extends ', 'fn ', 'dim ', 'params {', ' in [', 'state {', 'update {', 'sample {', 'reward {', 'advantage {', 'loss {', 'minimize ', 'over ', 'where ', '[G=0]', '///', '/*', '#', ': f32[B,G]', '**', ' and ', 'not ', '"']) {
      expect(all, construct).toContain(construct);
    }
  });

  it('compiles every example that declares a pipeline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlp-lang-doc-'));
    const withPipelines = blocks.filter((b) => /^pipeline /m.test(b));
    expect(withPipelines.length).toBeGreaterThanOrEqual(9);
    withPipelines.forEach((b, i) => {
      const f = join(dir, `ex${i}.rlp`);
      writeFileSync(f, b);
      const errors = compileFiles([f]).diagnostics.filter((d) => d.severity === 'error');
      expect(errors.map((d) => `${d.code} ${d.message}`), b).toEqual([]);
    });
  });
});

describe('docs/trl-verl.md', () => {
  it('maps only to pipelines, params and run options that exist', async () => {
    const text = readFileSync('docs/trl-verl.md', 'utf8');
    const { stdlibPipelines } = await import('../../runtime/cli/resolve-target.js');
    const names = [...stdlibPipelines().keys()];
    const rows = text.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---'));
    const lastCells = rows.map((r) => r.split('|').slice(-2, -1)[0]!.trim());
    const mentioned = lastCells.flatMap((c) => [...c.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!)).filter((n) => /^[a-z]/.test(n));
    const r = compileFiles(['stdlib/' + 'prelude.rlp', ...names.map((n) => stdlibPipelines().get(n)!)]);
    const params = new Set(r.pipelines.flatMap((p) => p.raw.meta.params.map((q) => q.name)));
    const fns = readFileSync('stdlib/prelude.rlp', 'utf8').match(/^fn ([a-z_0-9]+)/gm)!.map((f) => f.slice(3));
    const unknown = mentioned.filter((n) => !names.includes(n) && !params.has(n) && !fns.includes(n) && !['seqs', 'tokens', 'c', 'x', 'mask', 'alpha', 'loss'].includes(n));
    expect(unknown).toEqual([]);
    const help = (await import('node:child_process')).spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'run', '--help'], { encoding: 'utf8' }).stdout;
    for (const flag of text.matchAll(/`(--[a-z-]+)/g)) expect(help + ' --grad --set --batch', flag[1]).toContain(flag[1]!);
  });
});
