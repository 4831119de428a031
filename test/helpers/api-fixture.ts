/** A small in-memory program for the editor API's tests: a prelude, a parent and a child pipeline. */
import { memoryHost } from '../../compiler/bind/host.js';
import { analyze, type Analysis } from '../../compiler/api/analysis.js';

export const PRELUDE = `/// Twice a value.
fn twice(x) = 2 * x
`;

export const PARENT = `import "std/prelude"

dim K "members"

/// The parent.
pipeline base {
  params {
    beta: float = 0.1  "weight of the penalty"
  }
  state { seen: f32 = 0 }
  reward { r = correct }
  advantage { A = r - mean(r, over G) }
  loss {
    ratio = exp(logp - old_logp)
    per_token = -ratio * A + beta * twice(logp)
    minimize mean(per_token, over [B, G, T], where mask)
  }
  update { seen = seen + 1 }
}
`;

export const CHILD = `import "base.rlp"

pipeline child extends base {
  advantage { A = r }
  loss { per_token = -exp(logp - old_logp) * A }
}
`;

/** The files of the fixture, by absolute path. */
export const FILES: Readonly<Record<string, string>> = { '/stdlib/prelude.rlp': PRELUDE, '/w/base.rlp': PARENT, '/w/child.rlp': CHILD };

/** Analyse the fixture (or other files) from memory; roots default to base and child. */
export function fixture(files: Readonly<Record<string, string>> = FILES, roots = ['/w/base.rlp', '/w/child.rlp']): Analysis {
  return analyze(roots, memoryHost(files));
}

/** The offset of the `nth` occurrence of `needle` in `text`, plus `delta`. */
export function at(text: string, needle: string, nth = 0, delta = 0): number {
  let i = -1;
  for (let k = 0; k <= nth; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`no ${needle}`);
  }
  return i + delta;
}
