/** The CLI contract: commands, exit codes, formats, colors, help. Runs the bundled `rlp`. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function rlp(args: string[], env: Record<string, string | undefined> = { NO_COLOR: '1' }) {
  const base = { ...process.env };
  delete base['NO_COLOR'];
  delete base['FORCE_COLOR'];
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', ...args], { encoding: 'utf8', env: { ...base, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rlp-cli-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('rlp check', () => {
  it('exits 0 on the stdlib and the examples', () => {
    const r = rlp(['check', 'pipelines/grpo_format_bonus.rlp', 'pipelines/running_baseline.rlp', 'stdlib/grpo.rlp', 'stdlib/dr_grpo.rlp', 'stdlib/dpo.rlp', 'stdlib/prelude.rlp']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/checked 6 files: no problems/);
  });

  it('exits 1 with a rendered diagnostic and no stack trace on an error', () => {
    const r = rlp(['check', 'test/cases/dims-mismatch.rlp']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP3001]: cannot combine `f32[B,G,T]` with `f32[B,T]`: dimension `G` is missing');
    expect(r.err).toContain('--> test/cases/dims-mismatch.rlp:4:16');
    expect(r.err).toMatch(/> 4 \|\s+x = logp - per_prompt_token/);
    expect(r.err).toContain('^^^^^^^^^^^^^^^^ this is `f32[B,T]`');
    expect(r.err).toContain('= help:');
    expect(r.err).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });

  it('does not fail on warnings', () => {
    const f = tempFile('w.rlp', 'pipeline p {\n  params { unused: float = 1 }\n  loss { minimize mean(reward, over [B, G]) }\n}\n');
    const r = rlp(['check', f]);
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning[RLP4012]: param `unused` is never used');
  });

  it('reports a file that does not exist', () => {
    const r = rlp(['check', 'no/such/file.rlp']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error[RLP2001]: cannot find module `no/such/file.rlp`');
  });

  it('prints one line per diagnostic with --format short', () => {
    const r = rlp(['check', '--format', 'short', 'test/cases/cycle-bindings.rlp', 'test/cases/lex-bad-char.rlp']);
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines[0]).toBe('test/cases/cycle-bindings.rlp:4:9: error[RLP2010]: binding cycle: `a` -> `b` -> `a`');
    expect(lines[1]).toBe('test/cases/lex-bad-char.rlp:3:11: error[RLP0001]: unexpected character `$`');
  });

  it('reports every syntax error of a file (the bundle\'s Chevrotain path, dist/rlp-chevrotain.cjs, loaded on demand)', () => {
    const r = rlp(['check', '--format', 'short', 'test/cases/parse-keyword-as-name.rlp', 'stdlib/grpo.rlp']);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n').slice(0, 2)).toEqual([
      'test/cases/parse-keyword-as-name.rlp:3:5: error[RLP1001]: expected `}`, found `over`',
      'test/cases/parse-keyword-as-name.rlp:4:14: error[RLP1001]: expected an expression, found `over`',
    ]);
  });

  it('prints JSON on stdout with --format json', () => {
    const r = rlp(['check', '--format', 'json', 'test/cases/names-unknown-name.rlp']);
    expect(r.code).toBe(1);
    const ds = JSON.parse(r.out) as { code: string; span: { line: number; column: number }; help: string }[];
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'RLP2008', span: { line: 4, column: 19 }, help: 'did you mean `ratio`?' });
  });
});

describe('colors', () => {
  const esc = '\u001b[';
  it('are off when output is not a terminal', () => {
    expect(rlp(['check', 'test/cases/cycle-self.rlp'], {}).err).not.toContain(esc);
  });
  it('can be forced with FORCE_COLOR', () => {
    expect(rlp(['check', 'test/cases/cycle-self.rlp'], { FORCE_COLOR: '1' }).err).toContain(esc);
  });
  it('are off whenever NO_COLOR is set', () => {
    expect(rlp(['check', 'test/cases/cycle-self.rlp'], { FORCE_COLOR: '1', NO_COLOR: '1' }).err).not.toContain(esc);
  });
});

describe('rlp compile', () => {
  it('emits JSON and DOT', () => {
    const j = rlp(['compile', 'stdlib/dpo.rlp', '--emit', 'json']);
    expect(j.code).toBe(0);
    const g = JSON.parse(j.out) as { pipeline: string; nodes: unknown[]; outputs: Record<string, number> };
    expect(g.pipeline).toBe('dpo');
    expect(g.outputs['loss']).toBe(g.nodes.length - 1);
    const d = rlp(['compile', 'stdlib/dpo.rlp', '--emit', 'dot']);
    expect(d.out.startsWith('digraph "dpo" {')).toBe(true);
  });

  it('skips the passes with -O0 and dumps after a named pass', () => {
    const f = tempFile('c.rlp', 'pipeline p { advantage { A = reward * (2 + 3) } }\n');
    expect(rlp(['compile', f, '-O0']).out).toContain('add');
    expect(rlp(['compile', f]).out).not.toContain('add');
    expect(rlp(['compile', f, '--dump-ir', 'after:build']).out).toContain('add');
    expect(rlp(['compile', f, '--dump-ir', 'after:fold-constants']).out).not.toContain('add');
    const bad = rlp(['compile', f, '--dump-ir', 'after:nothing']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--dump-ir takes after:PASS');
  });

  it('exits 1 with diagnostics when the file has errors', () => {
    const r = rlp(['compile', 'test/cases/cycle-self.rlp']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
  });

  it('selects one pipeline with --pipeline and says which exist otherwise', () => {
    const f = tempFile('two.rlp', 'pipeline a { advantage { A = reward } }\npipeline b { advantage { A = 2 * reward } }\n');
    expect(rlp(['compile', f, '--pipeline', 'b']).out).toMatch(/^pipeline b\(/);
    const r = rlp(['compile', f, '--pipeline', 'c']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('it has `a` or `b`');
  });
});

describe('usage errors exit 2', () => {
  it.each([
    [['frobnicate']],
    [['check']],
    [['check', '--bogus', 'x.rlp']],
    [['compile', 'stdlib/grpo.rlp', '--emit', 'png']],
    [['compile', 'nosuch.rlp']],
    [['explain', 'RLP9999']],
    [['explain', 'grpoo']],
  ])('rlp %j', (args) => {
    const r = rlp(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/error/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('suggests the closest name', () => {
    expect(rlp(['explain', 'grpoo']).err).toContain('did you mean `grpo`?');
  });
});

describe('--help', () => {
  it.each([[[]], [['check']], [['compile']], [['explain']]])('rlp %j --help lists its usage and exits 0', (cmd) => {
    const r = rlp([...cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Usage: rlp${cmd.length > 0 ? ' ' + cmd[0] : ''}`);
  });

  it('lists the options that exist', () => {
    const out = rlp(['compile', '--help']).out;
    for (const flag of ['--emit', '--pipeline', '--opt-level', '--dump-ir', '--format']) expect(out).toContain(flag);
  });
});

describe('rlp explain', () => {
  it('prints the long form of a diagnostic', () => {
    const r = rlp(['explain', 'RLP3003']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^RLP3003: unmasked reduction of a padded value \(error\)/);
  });

  it('prints a pipeline with its formula and params with defaults', () => {
    const r = rlp(['explain', 'grpo']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('A_i   = (r_i - mean_G r) / (std_G r + eps)');
    expect(r.out).toMatch(/beta: float = 0\.04 in \[0, inf\)\s+weight of the k3 KL penalty/);
    expect(r.out).toMatch(/clip_high: float = 0\.2/);
    expect(r.out).toMatch(/logp: f32\[B,G,T\]@mask/);
  });

  it('prints an op and the list of ops', () => {
    expect(rlp(['explain', 'clip']).out).toContain('clip(x, lo, hi)');
    expect(rlp(['explain', 'ops']).out).toMatch(/mean \(over\)\s+Mean over the named dims/);
  });
});

describe('rlp list', () => {
  it('lists every standard pipeline with a one-line summary', () => {
    const r = rlp(['list']);
    expect(r.code).toBe(0);
    const names = r.out.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    for (const n of ['grpo', 'dr_grpo', 'dapo', 'gspo', 'cispo', 'rloo', 'reinforce_pp', 'reinforce_pp_baseline', 'remax', 'ppo', 'dpo', 'ipo', 'hinge', 'rdpo', 'bco_pair', 'sppo_hard', 'nca_pair', 'aot', 'aot_pair', 'apo_zero', 'apo_down', 'exo_pair', 'discopop', 'rpo', 'ln_dpo']) {
      expect(names).toContain(n);
    }
    expect(r.out).toMatch(/^grpo +Group Relative Policy Optimization \(Shao et al\., DeepSeekMath, 2024\)\.$/m);
    expect(r.out).toMatch(/^dr_grpo +Dr\. GRPO: GRPO done right \(Liu et al\., 2025\)\.$/m);
    for (const line of r.out.trim().split('\n')) expect(line.length).toBeLessThanOrEqual(125);
  });

  it('explains a pipeline declared beside others (stdlib/preference.rlp)', () => {
    const r = rlp(['explain', 'ipo']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('length_normalize: bool = true');
  });
});
