/**
 * The command line as a source file, so that a problem with a flag (`--set`, `--grad`,
 * `--pipeline`) is a diagnostic whose frame shows the flag as the user typed it.
 */
import { makeSource, span, type SourceFile, type Span } from '../../grammar/source.js';

/** The command line of this invocation, and where each argument sits in it. */
export interface CommandLine {
  readonly file: SourceFile;
  /** The span of `FLAG VALUE` (or `FLAG=VALUE`); the whole line when it is not found. */
  flag(flag: string, value: string): Span;
  /** The whole command line. */
  readonly all: Span;
}

function quote(a: string): string {
  return /^[A-Za-z0-9_./:=,+@%-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** Build the command line of `rlp ARGV...` (quoted as a shell would need it). */
export function commandLine(argv: readonly string[]): CommandLine {
  const words = ['rlp', ...argv.map(quote)];
  const starts: number[] = [];
  let at = 0;
  for (const w of words) {
    starts.push(at);
    at += w.length + 1;
  }
  const file = makeSource('<command line>', words.join(' '));
  const all = span(file, 4, file.text.length);
  return {
    file,
    all,
    flag(flag, value) {
      for (let i = 0; i < argv.length; i++) {
        const a = argv[i]!;
        if (a === flag && argv[i + 1] === value) return span(file, starts[i + 1]!, starts[i + 2]! + words[i + 2]!.length);
        if (a === `${flag}=${value}`) return span(file, starts[i + 1]!, starts[i + 1]! + words[i + 1]!.length);
      }
      return all;
    },
  };
}
