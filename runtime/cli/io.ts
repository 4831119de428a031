/** CLI plumbing: exit codes, colors, user errors vs bugs. */
import { InternalError } from '../../compiler/diagnostics/diagnostic.js';

/** Exit codes of the CLI contract. */
export const EXIT = Object.freeze({ ok: 0, user: 1, usage: 2, internal: 70 });

/** A usage problem found after parsing flags (bad `--emit`, a missing file...): exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Whether to color output on this stream: a TTY, and NO_COLOR unset (FORCE_COLOR forces). */
export function useColor(stream: NodeJS.WriteStream): boolean {
  const env = process.env;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true;
}

/** Report an unexpected exception as a bug and return exit code 70. */
export function reportInternal(e: unknown): number {
  const detail = e instanceof Error ? e.message : String(e);
  const kind = e instanceof InternalError ? 'internal compiler error' : 'internal error';
  process.stderr.write(`error[RLP9001]: ${kind}: ${detail}\n  = note: this is a bug in rlp, not in your program; please report it with the input that triggered it\n`);
  if (process.env['RLP_DEBUG'] !== undefined && e instanceof Error && e.stack !== undefined) process.stderr.write(e.stack + '\n');
  else process.stderr.write('  = help: set RLP_DEBUG=1 to print the stack trace\n');
  return EXIT.internal;
}

/**
 * A logger for long work: on a terminal, progress lines (`step ...`) overwrite each other in
 * place; elsewhere (CI, pipes) every line is printed plainly.
 */
export function progressLogger(stream: NodeJS.WriteStream = process.stderr): { log: (line: string) => void; done: () => void } {
  const tty = stream.isTTY === true && process.env['CI'] === undefined;
  let open = false;
  return {
    log(line) {
      const progress = /^(sft )?step \d+\//.test(line);
      if (tty && progress) {
        stream.write(`\r\x1b[2K${line}`);
        open = true;
        return;
      }
      if (open) stream.write('\n');
      open = false;
      stream.write(line + '\n');
    },
    done() {
      if (open) stream.write('\n');
      open = false;
    },
  };
}

/** `--set NAME=VALUE` flags as a map (a flag without `=` or a name is a usage error). */
export function parseSets(sets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sets) {
    const i = s.indexOf('=');
    if (i <= 0) throw new UsageError(`--set takes NAME=VALUE, found \`${s}\``);
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}
