/**
 * Docs that execute: docs/tutorial.md is followed to the letter in a fresh folder. Every
 * `<!-- file: NAME -->` block is written to NAME, and every ```sh block is run, in order, with
 * `rlp` being this checkout's CLI; each command must succeed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

type Step = { kind: 'file'; name: string; text: string } | { kind: 'sh'; command: string };

/** The tutorial's files and commands, in the order the page gives them. */
export function tutorialSteps(md: string): Step[] {
  const steps: Step[] = [];
  for (const m of md.matchAll(/(?:<!-- file: (\S+) -->\n)?```(\w*)\n([\s\S]*?)```/g)) {
    if (m[1] !== undefined) steps.push({ kind: 'file', name: m[1], text: m[3]! });
    else if (m[2] === 'sh') for (const line of m[3]!.split('\n')) if (line.trim() !== '') steps.push({ kind: 'sh', command: line.trim() });
  }
  return steps;
}

describe('docs/tutorial.md', () => {
  const steps = tutorialSteps(readFileSync('docs/tutorial.md', 'utf8'));

  it('writes a pipeline and a batch, and runs check, explain, eval, the graph and run', () => {
    expect(steps.filter((s) => s.kind === 'file').map((s) => (s as { name: string }).name)).toEqual(['bnpo_like.rlp', 'batch.json']);
    const verbs = steps.flatMap((s) => (s.kind === 'sh' ? [s.command.split(' ').slice(0, 2).join(' ')] : []));
    expect(verbs).toEqual(['rlp check', 'rlp explain', 'rlp eval', 'rlp eval', 'rlp compile', 'rlp run']);
  });

  it('runs every command of the page, in order, in a fresh folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlp-tutorial-'));
    const rlp = `"${process.execPath}" "${resolve('runtime/cli/rlp.mjs')}"`;
    for (const s of steps) {
      if (s.kind === 'file') {
        writeFileSync(join(dir, s.name), s.text);
        continue;
      }
      const cmd = s.command.replace(/^rlp /, `${rlp} `);
      try {
        execFileSync('bash', ['-c', cmd], { cwd: dir, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, NO_COLOR: '1', CI: '1' } });
      } catch (e) {
        throw new Error(`\`${s.command}\` failed: ${(e as { stderr?: string }).stderr ?? String(e)}`);
      }
    }
    const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Record<string, { data: number[] }>;
    expect(out['advantage']!.data.map((x) => Math.round(x * 1000) / 1000)).toEqual([0.707, -0.707]);
    expect(out['grad.logp']!.data[5]).toBe(0);
    expect(readFileSync(join(dir, 'bnpo_like.dot'), 'utf8')).toMatch(/^digraph "bnpo_like"/);
    expect(existsSync(join(dir, 'run', 'checkpoint-2'))).toBe(true);
  });
});
