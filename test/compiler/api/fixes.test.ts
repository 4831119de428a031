import { describe, expect, it } from 'vitest';
import { fixesFor } from '../../../compiler/api/fixes.js';
import { memoryHost } from '../../../compiler/bind/host.js';
import { analyze } from '../../../compiler/api/analysis.js';

/** Check one file, apply the first fix of its first diagnostic; the fix's title and the new text. */
function fixOnce(text: string): { title: string; text: string } | null {
  const a = analyze(['/w/p.rlp'], memoryHost({ '/w/p.rlp': text }));
  const d = a.diagnostics[0];
  const f = d === undefined ? undefined : fixesFor(a, d)[0];
  if (f === undefined) return null;
  let out = text;
  for (const e of [...f.edits].sort((x, y) => y.span.start - x.span.start)) out = out.slice(0, e.span.start) + e.newText + out.slice(e.span.end);
  return { title: f.title, text: out };
}

describe('fixesFor', () => {
  it('adds `where mask` before the closing parenthesis of an unmasked reduction', () => {
    const r = fixOnce('pipeline p { loss { minimize mean(logp, over [B, G, T]) } }')!;
    expect(r).toEqual({ title: 'add `where mask`', text: 'pipeline p { loss { minimize mean(logp, over [B, G, T], where mask) } }' });
  });

  it('applies a did-you-mean to a name and to an import path', () => {
    expect(fixOnce('pipeline p { loss { minimize mean(rewrad, over [B, G]) } }')?.text).toBe('pipeline p { loss { minimize mean(reward, over [B, G]) } }');
    const imp = analyze(['/w/p.rlp'], memoryHost({ '/w/p.rlp': 'import "std/prelud"\n', '/stdlib/prelude.rlp': '' }));
    expect(fixesFor(imp, imp.diagnostics[0]!).map((f) => f.edits[0]!.newText)).toEqual(['"std/prelude"']);
  });

  it('wraps a coarser operand in expand(x, over D), with a list for several dims', () => {
    const r = fixOnce('pipeline p { advantage { A: f32[B,G,T] = greedy_reward } loss { minimize mean(A, over [B, G, T]) } }')!;
    expect(r.text).toContain('A: f32[B,G,T] = expand(greedy_reward, over [G, T])');
  });

  it('offers nothing where the help is not mechanical', () => {
    expect(fixOnce('pipeline p { loss { x = x + 1\n minimize mean(x, over [B]) } }')).toBeNull();
    expect(fixOnce('pipeline p { loss { x = logp } }')).toBeNull();
  });
});
