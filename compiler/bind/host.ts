/** Where the compiler reads files from: the file system, or a map in tests. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { stripBom } from '../../grammar/encoding.js';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParseResult } from '../../grammar/parse.js';
import type { SourceFile } from '../../grammar/source.js';

/** File access for the compiler. Paths are absolute; `display` shortens them for messages. */
export interface CompilerHost {
  read(absPath: string): string | undefined;
  /** The absolute folder holding the standard library. */
  readonly stdlibDir: string;
  /** How a path is shown in diagnostics. */
  display(absPath: string): string;
  /** The names of the stdlib modules (for suggestions). */
  stdlibModules(): string[];
  /**
   * Optional: parse a file, e.g. from a cache of unchanged files (the language server keeps one
   * so that a keystroke reparses only the edited file). Must return what `parseFile` would.
   */
  parse?(file: SourceFile): ParseResult;
}

/** Find the repository's `stdlib/` by walking up from this module (works from source and from the bundle). */
export function findStdlibDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'stdlib');
    if (existsSync(join(candidate, 'prelude.rlp'))) return candidate;
    dir = dirname(dir);
  }
  return resolve('stdlib');
}

/** The file-system host; paths are displayed relative to the working directory. */
export function fsHost(cwd: string = process.cwd()): CompilerHost {
  const stdlibDir = findStdlibDir();
  return {
    stdlibDir,
    read(p) {
      try {
        if (!statSync(p).isFile()) return undefined;
        return stripBom(readFileSync(p, 'utf8'));
      } catch {
        return undefined;
      }
    },
    display(p) {
      const r = relative(cwd, p);
      return r.startsWith('..') || r === '' ? p : r.split(sep).join('/');
    },
    stdlibModules() {
      try {
        return readdirSync(stdlibDir).filter((f) => f.endsWith('.rlp')).map((f) => f.slice(0, -4)).sort();
      } catch {
        return [];
      }
    },
  };
}

/** An in-memory host for tests: absolute paths to texts. */
export function memoryHost(files: Readonly<Record<string, string>>, stdlibDir = '/stdlib'): CompilerHost {
  return {
    stdlibDir,
    read: (p) => files[p],
    display: (p) => p,
    stdlibModules: () =>
      Object.keys(files)
        .filter((f) => f.startsWith(stdlibDir + '/') && f.endsWith('.rlp'))
        .map((f) => f.slice(stdlibDir.length + 1, -4)),
  };
}
