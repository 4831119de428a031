/** Every file or folder that shipped text (README, docs, stdlib and example comments) refers to exists. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const TOP = ['grammar', 'compiler', 'runtime', 'stdlib', 'pipelines', 'test', 'docs', 'bench'];
const files = [
  'README.md',
  ...['stdlib', 'pipelines', 'docs'].flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => /\.(rlp|md)$/.test(f)).map((f) => join(d, f)) : [])),
];

/** The repository paths a text names: `*.md` files, markdown links, and paths under a top-level folder or `../`. */
export function referencedPaths(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/\]\(([^)#\s]+)\)/g)) if (!/^[a-z]+:/.test(m[1]!)) out.add(m[1]!);
  for (const m of text.matchAll(/(?<![\w./-])((?:\.\.?\/)[\w./-]+|[\w-]+\.md|(?:[\w-]+\/)+[\w.-]+\.md)\b/g)) out.add(m[1]!);
  for (const m of text.matchAll(new RegExp(`(?<![\\w./-])((?:${TOP.join('|')})/[\\w./-]*[\\w])`, 'g'))) out.add(m[1]!);
  return [...out];
}

describe('shipped text', () => {
  it('finds references the way a reader would', () => {
    expect(referencedPaths('see ../shared/methods.md and [the tutorial](docs/tutorial.md), stdlib/grpo.rlp, https://x.org/a.md')).toEqual(
      expect.arrayContaining(['../shared/methods.md', 'docs/tutorial.md', 'stdlib/grpo.rlp']),
    );
    expect(referencedPaths('methods.md, TRL')).toEqual(['methods.md']);
  });

  it('refers only to files that exist (relative to the file or the repository root)', () => {
    const dangling = files.flatMap((f) =>
      referencedPaths(readFileSync(f, 'utf8'))
        .filter((p) => !existsSync(join(dirname(f), p)) && !existsSync(p) && !p.startsWith('runs/'))
        .map((p) => `${f}: ${p}`));
    expect(dangling).toEqual([]);
  });
});
