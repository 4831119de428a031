/** `rlp list`: the standard pipelines, one line each. */
import { compileFiles } from '../../../compiler/compile.js';
import { EXIT } from '../io.js';
import { stdlibPipelines } from '../resolve-target.js';

/** Run `rlp list`; returns the exit code. */
export function runList(): number {
  const std = stdlibPipelines();
  const files = [...new Set(std.values())];
  const compiled = compileFiles(files).pipelines;
  const width = Math.max(...[...std.keys()].map((n) => n.length)) + 2;
  for (const name of std.keys()) {
    const p = compiled.find((x) => x.name === name);
    const summary = p === undefined ? '(does not compile: run `rlp check` on its file)' : firstSentence(p.raw.meta.doc);
    process.stdout.write(`${name.padEnd(width)}${summary}\n`);
  }
  return EXIT.ok;
}

/** The first sentence of a doc comment's first paragraph ("Dr." and "et al." do not end one). */
export function firstSentence(doc: string): string {
  const para = (doc.split(/\n\s*\n/)[0] ?? '').replace(/\s+/g, ' ').trim();
  const re = /(\S+)\.(\s|$)/g;
  for (let m = re.exec(para); m !== null; m = re.exec(para)) {
    const word = m[1]!.replace(/^\W+/, '');
    if (word.length >= 3 && word !== 'al') return cap(para.slice(0, m.index + m[0].trimEnd().length));
  }
  return cap(para.replace(/:$/, '.'));
}

function cap(s: string): string {
  return s.length > 100 ? s.slice(0, 99).trimEnd() + '…' : s;
}
