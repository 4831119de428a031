/**
 * The published package: a name free of the unrelated `rlp` on the registry, the `rlp` bin, and a
 * `files` list that ships what the CLI needs. The test packs the project (`npm pack`), installs the
 * tarball into a temporary folder the way npm lays it out (node_modules/rlp-lang and the `rlp` bin
 * link; the dependencies are linked from this checkout's node_modules, so no network is touched),
 * and runs `rlp check`, `rlp eval` and one `rlp run` step there.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };

const root = resolve('.');

/** Lay out node_modules in `dir` as `npm install TARBALL` would, with dependencies linked from this checkout. */
function install(tarball: string, dir: string): string {
  const nm = join(dir, 'node_modules');
  mkdirSync(join(nm, '.bin'), { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', dir]);
  renameSync(join(dir, 'package'), join(nm, pkg.name));
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name.startsWith('.') || name === pkg.name) continue;
    if (name.startsWith('@')) {
      mkdirSync(join(nm, name), { recursive: true });
      for (const sub of readdirSync(join(root, 'node_modules', name))) symlinkSync(join(root, 'node_modules', name, sub), join(nm, name, sub));
    } else symlinkSync(join(root, 'node_modules', name), join(nm, name));
  }
  const bin = join(nm, '.bin', 'rlp');
  symlinkSync(join('..', pkg.name, pkg.bin.rlp), bin);
  return bin;
}

describe('the npm package', () => {
  it('is named rlp-lang (the registry\'s `rlp` is an unrelated encoder) and installs the `rlp` bin', () => {
    expect(pkg.name).toBe('rlp-lang');
    expect(pkg.bin).toEqual({ rlp: 'runtime/cli/rlp.mjs' });
  });

  it('packs, installs into a temporary folder and runs rlp check, eval and one run step there', () => {
    if (!existsSync(join(root, 'dist', 'rlp.mjs'))) execFileSync(process.execPath, ['runtime/cli/build.mjs']);
    const dir = mkdtempSync(join(tmpdir(), 'rlp-pack-'));
    // --ignore-scripts: dist/ is built already; rebuilding it here would race the other CLI tests.
    const name = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { encoding: 'utf8' }).trim().split('\n').pop()!;
    const rlp = install(join(dir, name), dir);
    const work = join(dir, 'work');
    mkdirSync(work);
    const run = (args: string[]) => spawnSync(rlp, args, { cwd: work, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: '1' } });

    writeFileSync(join(work, 'mine.rlp'), 'import "std/grpo"\n\npipeline mine extends grpo {\n  params { beta: float = 0 in [0, inf) }\n}\n');
    const check = run(['check', 'mine.rlp']);
    expect(check.stderr).toContain('checked 1 file: no problems');
    expect(check.status).toBe(0);

    writeFileSync(join(work, 'batch.json'), JSON.stringify({
      reward: { shape: [1, 2], data: [0, 1] },
      ...Object.fromEntries(['logp', 'old_logp', 'ref_logp'].map((k) => [k, { shape: [1, 2, 2], data: [-1, -2, -1.5, -0.5] }])),
      mask: { shape: [1, 2, 2], data: [1, 1, 1, 0] },
    }));
    const ev = run(['eval', 'dr_grpo', '--batch', 'batch.json', '--backend', 'cpu']);
    expect(ev.status, ev.stderr).toBe(0);
    expect(Object.keys(JSON.parse(ev.stdout) as object)).toContain('advantage');

    const tr = run(['run', 'grpo', '--steps', '1', '--prompts', '2', '--set', 'group=2', '--set', 'max_tokens=3', '--backend', 'cpu', '--out', 'r']);
    expect(tr.status, tr.stderr).toBe(0);
    expect(tr.stderr.split('\n')[0]).toContain(join('node_modules', 'rlp-lang', 'runtime', 'policy', 'pretrained', 'arithmetic'));
    expect(existsSync(join(work, 'r', 'checkpoint-1'))).toBe(true);
  });
});
