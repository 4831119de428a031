/**
 * The fast parser (grammar/fast-parse.ts, with parse.ts's depth check: `parseFast`) against the Chevrotain path it stands in for: on every
 * .rlp file of the repository and on random edits of them, whenever the fast path gives an AST,
 * the Chevrotain path gives the same AST and no problem; and every well-formed file of the
 * repository does take the fast path.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFast, parseFile, parseWithChevrotain } from '../../grammar/parse.js';
import { makeSource } from '../../grammar/source.js';

const root = join(import.meta.dirname, '..', '..');

function rlpFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.rlp'))
    .map((e) => join(e.parentPath, e.name));
}

const corpus = ['stdlib', 'pipelines', 'test'].flatMap(rlpFiles).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

/** Both paths on one text: the fast AST must be the Chevrotain one whenever there is a fast AST. */
function agree(text: string): { fast: boolean; ok: boolean } {
  const file = makeSource('t.rlp', text);
  const fast = parseFast(file);
  const slow = parseWithChevrotain(file);
  if (fast !== null) {
    expect(slow.problems).toEqual([]);
    expect(fast).toEqual(slow.ast);
  }
  return { fast: fast !== null, ok: slow.ast !== null };
}

// Pieces that random edits insert: every token of the grammar, and bits that are lexical problems.
const PIECES = [
  'import', 'pipeline', 'extends', 'fn', 'dim', 'minimize', 'over', 'where', 'true', 'false', 'and', 'or', 'not', 'in',
  'x', 'B', 'f32', '1', '2.5', '.5', '1e3', '1e', '"s"', '"', '///d\n', '# c\n', '/* c */', '/*',
  '{', '}', '(', ')', '[', ']', ',', ';', ':', '==', '!=', '<=', '>=', '<', '>', '=', '**', '+', '-', '*', '/', '.', '!', '@', '\n',
];

describe('fast parser', () => {
  it('takes every well-formed file of the repository and builds the Chevrotain AST', () => {
    expect(corpus.length).toBeGreaterThan(100);
    let wellFormed = 0;
    for (const { path, text } of corpus) {
      const r = agree(text);
      // A file the Chevrotain path accepts must take the fast path (else the fast path is dead weight).
      if (r.ok) {
        wellFormed++;
        expect(r.fast, path).toBe(true);
      }
    }
    expect(wellFormed).toBeGreaterThan(100);
  });

  it('agrees with the Chevrotain path on random edits of those files', () => {
    const texts = corpus.map((c) => c.text).filter((t) => t.length < 20_000);
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.nat(texts.length - 1),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(8), fc.constantFrom(...PIECES)), { minLength: 1, maxLength: 3 }),
        (which, edits) => {
          let text = texts[which]!;
          for (const [where, del, piece] of edits) {
            // At a white-space boundary: insert a piece, or delete the word that follows.
            let at = Math.floor(where * text.length);
            while (at < text.length && !/\s/.test(text[at]!)) at++;
            if (del % 3 === 0) {
              let end = at + 1;
              while (end < text.length && !/\s/.test(text[end]!)) end++;
              text = text.slice(0, at) + text.slice(end);
            } else text = `${text.slice(0, at)} ${piece} ${text.slice(at)}`;
          }
          if (agree(text).fast) accepted++;
        },
      ),
      { numRuns: 600, seed: 9 },
    );
    // Some edits keep a file well-formed, so both paths accept: the check above compared ASTs then.
    expect(accepted).toBeGreaterThan(20);
  });

  it('agrees on small random token strings', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES, 'pipeline p { loss {', '} }', 'x = ', 'f(', 'a[G=0]'), { maxLength: 14 }), (ps) => {
        if (agree(ps.join(' ')).fast) accepted++;
      }),
      { numRuns: 1500, seed: 9 },
    );
    expect(accepted).toBeGreaterThan(10);
  });

  it('leaves every problem to the Chevrotain path, which reports it', () => {
    for (const text of ['pipeline p { loss { x = 1e } }', 'pipeline p { loss { x = "a } }', 'pipeline p { loss { x = (1 } }', 'pipeline p { loss { x = 1 +  } }', 'pipeline p { loss { x = a.b } }']) {
      const file = makeSource('t.rlp', text);
      expect(parseFast(file)).toBeNull();
      expect(parseFile(file).problems.length).toBeGreaterThan(0);
    }
  });
});
