/** `rlp viz` on the command line: forms by extension, the path printed, usage errors, --batch, and no TF.js without it. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'rlp-viz-cli-'));

function rlp(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', './test/helpers/trace-imports.mjs', 'runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Run and return the packages the process resolved. */
function traced(args: string[]): { code: number | null; out: string; err: string; packages: string[] } {
  const trace = join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(trace, '');
  const r = rlp(args, { RLP_TRACE_IMPORTS: trace });
  return { ...r, packages: readFileSync(trace, 'utf8').split('\n').filter((l) => l !== '') };
}

/** A grpo batch: B = 1 prompt, G = 2 completions, T = 3 tokens, the last token of the second masked. */
function batchFile(): string {
  const f = join(dir, 'batch.json');
  const tok = (data: number[]) => ({ shape: [1, 2, 3], data });
  writeFileSync(f, JSON.stringify({
    logp: tok([-1, -2, -1, -0.5, -1, -9]), old_logp: tok([-1, -2, -1, -0.5, -1.5, -9]), ref_logp: tok([-1, -1, -1, -1, -1, -1]),
    mask: tok([1, 1, 1, 1, 1, 0]), 'reward_fn.correct': { shape: [1, 2], data: [1, 0] },
  }));
  return f;
}

describe('rlp viz', () => {
  it('writes .svg, .dot and .html by extension, prints only the path, and never loads TF.js', () => {
    for (const ext of ['svg', 'dot', 'html']) {
      const out = join(dir, `sub/grpo.${ext}`);
      const r = traced(['viz', 'grpo', '--optimized', '-o', out]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${out}\n`);
      expect(existsSync(out)).toBe(true);
      expect(r.packages.filter((p) => p.startsWith('@tensorflow/'))).toEqual([]);
      if (ext === 'svg') expect(r.packages).toContain('@viz-js/viz');
    }
    expect(readFileSync(join(dir, 'sub/grpo.svg'), 'utf8')).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*id="b:advantage.A"/);
  });

  it('takes -O1 as --optimized and -O0 as the drawing as written, and refuses --optimized with -O0', () => {
    const draw = (flags: string[], name: string): string => {
      const out = join(dir, `${name}.dot`);
      const r = rlp(['viz', 'grpo', ...flags, '-o', out]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      return readFileSync(out, 'utf8');
    };
    const optimized = draw(['--optimized', '--ops'], 'opt');
    const plain = draw(['--ops'], 'plain');
    expect(optimized).toContain('fused');
    expect(plain).not.toContain('fused');
    expect(draw(['-O1', '--ops'], 'o1')).toBe(optimized);
    expect(draw(['--opt-level', '1', '--ops'], 'level1')).toBe(optimized);
    expect(draw(['-O0', '--ops'], 'o0')).toBe(plain);
    expect(rlp(['viz', 'grpo', '--optimized', '-O0', '-o', join(dir, 'x.dot')])).toMatchObject({ code: 2, err: expect.stringContaining('does not combine with -O0') });
  });

  it('annotates every binding with its value summary under --batch', () => {
    const out = join(dir, 'batch.dot');
    const r = traced(['viz', 'grpo', '--batch', batchFile(), '--set', 'beta=0', '-o', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.packages.some((p) => p.startsWith('@tensorflow/'))).toBe(true);
    const dot = readFileSync(out, 'utf8');
    // A = (r - mean) / (std + eps) over the group: rewards 1, 0 -> +-0.7071 (unbiased std).
    expect(dot).toContain('A = group_advantage(reward, eps,\\nsingleton_verl)\\nf32[B,G]\\nparams: eps = 0.000001, singleton_verl = false\\n[1,2] min -0.7071 mean 0 max 0.7071, 0 NaN');
    expect(dot).toMatch(/ratio = exp\(logp - old_logp\)\\nf32\[B,G,T\] @mask\\n\[1,2,3\] min 1 mean 1\.13 max 1\.649, 16\.7% masked, 0 NaN/);
    expect(dot).toContain('params: beta = 0');
    expect(dot).toContain('mask\\nf32[B,G,T] !mask\\n[1,2,3] min 0 mean 0.8333 max 1, 0 NaN');
  });

  it('counts NaN in a fed value instead of refusing it', () => {
    const f = join(dir, 'nan.msgpack');
    const b = JSON.parse(readFileSync(batchFile(), 'utf8')) as Record<string, { shape: number[]; data: number[] }>;
    b['logp']!.data[0] = NaN;
    writeFileSync(f, pack(b));
    const out = join(dir, 'nan.dot');
    const r = rlp(['viz', 'grpo', '--batch', f, '-o', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/ratio = exp\(logp - old_logp\)\\nf32\[B,G,T\] @mask\\n\[1,2,3\] min 1 mean 1\.162 max 1\.649, 16\.7% masked, 1 NaN/);
  });

  it('refuses an unknown output form, --diff with --ops, and a missing batch file as usage errors', () => {
    expect(rlp(['viz', 'grpo', '-o', join(dir, 'x.png')])).toMatchObject({ code: 2, err: expect.stringContaining('-o takes a .dot, .svg or .html file') });
    expect(rlp(['viz', 'grpo', '--ops', '--diff', 'dr_grpo', '-o', join(dir, 'x.dot')])).toMatchObject({ code: 2, err: expect.stringContaining('does not combine with --ops') });
    expect(rlp(['viz', 'grpo', '--batch', join(dir, 'none.json'), '-o', join(dir, 'x.dot')])).toMatchObject({ code: 2, err: expect.stringContaining('no such file') });
    expect(rlp(['viz', 'grpo'])).toMatchObject({ code: 2 });
  });

  it('reports a pipeline with errors as a user error with its diagnostics', () => {
    const bad = join(dir, 'bad.rlp');
    writeFileSync(bad, 'pipeline p {\n  loss { minimize mean(nope, over [B, G]) }\n}\n');
    const r = rlp(['viz', bad, '-o', join(dir, 'bad.dot')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP');
    expect(existsSync(join(dir, 'bad.dot'))).toBe(false);
  });
});
