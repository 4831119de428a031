/**
 * The TextMate grammar of `.rlp` (editors/vscode/syntaxes/rlp.tmLanguage.json), checked with
 * vscode-tmgrammar-test's snapshot runner over every stdlib file and a file of every syntax form
 * (including `in`, `choice` and `inputs`). Snapshots live in test/editors/vscode/snapshots/;
 * `npm run golden:update` rewrites them (review the diff: it shows every scope that changed).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const snapDir = 'test/editors/vscode/snapshots';
const grammar = resolve('editors/vscode/syntaxes/rlp.tmLanguage.json');
const cli = createRequire(import.meta.url).resolve('vscode-tmgrammar-test/dist/snapshot.js');
const sources = [...readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).sort().map((f) => join('stdlib', f)), join(snapDir, 'syntax.rlp')];
const update = process.env['UPDATE_GOLDEN'] === '1';

/** Copy the sources and their committed snapshots into a fresh folder, run the snapshot runner there. */
function runSnapshots(): { code: number | null; out: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rlp-tm-'));
  for (const s of sources) {
    const name = s.split('/').pop()!;
    copyFileSync(s, join(dir, name));
    const snap = join(snapDir, name + '.snap');
    if (existsSync(snap)) copyFileSync(snap, join(dir, name + '.snap'));
  }
  const args = [cli, '-g', grammar, '-s', 'source.rlp', '--config', resolve('editors/vscode/package.json'), ...(update ? ['-u'] : []), join(dir, '*.rlp')];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  if (update) for (const s of sources) copyFileSync(join(dir, s.split('/').pop()! + '.snap'), join(snapDir, s.split('/').pop()! + '.snap'));
  return { code: r.status, out: r.stdout + r.stderr, dir };
}

describe('the TextMate grammar', () => {
  it('has a committed snapshot for every stdlib file', () => {
    const missing = sources.filter((s) => !existsSync(join(snapDir, s.split('/').pop()! + '.snap')));
    expect(missing).toEqual([]);
  });

  it('tokenizes every stdlib file exactly as its snapshot', () => {
    const r = runSnapshots();
    expect(r.out).not.toMatch(/snapshot.*(changed|missing|not found)/i);
    expect(r.code, r.out).toBe(0);
  });

  it('highlights dims in types, stages, doc comments, and the keywords in, choice and inputs', () => {
    const snap = readFileSync(join(snapDir, 'syntax.rlp.snap'), 'utf8');
    for (const scope of [
      'entity.name.type.dimension.rlp', 'keyword.control.stage.rlp', 'comment.line.documentation.rlp', 'keyword.other.in.rlp',
      'keyword.other.choice.rlp', 'constant.numeric.rlp', 'string.quoted.double.rlp', 'comment.block.rlp', 'keyword.other.where.rlp',
    ]) expect(snap).toContain(scope);
    expect(snap).toMatch(/\^+ source\.rlp keyword\.control\.stage\.rlp\n.*\n?/);
    expect(snap).toMatch(/inputs \{/);
  });
});
