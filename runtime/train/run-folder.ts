/**
 * The run folder (`--out`): checked before anything is created (a failed start leaves nothing
 * behind), never reused without `--resume`, held by one run at a time (a lock file with the pid;
 * a stale lock, whose process is gone, is named and replaced), and its metrics.jsonl repaired on
 * resume (a torn last line, from a crash mid-write, is dropped with a warning).
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync, accessSync, constants } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { writeAtomic } from './checkpoint.js';
import { TrainError } from './options.js';

/** The lock file's name inside a run folder. */
export const LOCK_FILE = 'rlp.lock';

/** A file-system error's code (`ENOSPC`, `EACCES`...), or undefined. */
export function errnoCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' && /^E[A-Z]+$/.test(c) ? c : undefined;
}

/** A file-system error as a user's message: what failed, where, and the system's reason. */
export function fsProblem(what: string, e: unknown): TrainError | null {
  const code = errnoCode(e);
  if (code === undefined) return null;
  const reason: Record<string, string> = {
    ENOSPC: 'no space left on the device', EDQUOT: 'the disk quota is exceeded', EFBIG: 'the file is larger than this process may write',
    EROFS: 'the file system is read-only', EACCES: 'permission denied', EPERM: 'operation not permitted', ENOTDIR: 'a part of the path is not a folder',
    EISDIR: 'it is a folder', ENOENT: 'no such file or folder', EIO: 'an I/O error',
  };
  return new TrainError(`${what}: ${reason[code] ?? (e as Error).message} (${code})`);
}

/**
 * Check that `out` can be a run folder, creating nothing: it is a folder or can be created (its
 * nearest existing ancestor is a writable folder). Throws TrainError naming the problem.
 */
export function checkOutPath(out: string): void {
  if (out.trim() === '') throw new TrainError('--out is empty: name a folder for the run');
  const abs = resolve(out);
  let at = abs;
  for (;;) {
    let st;
    try {
      st = statSync(at);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw fsProblem(`--out ${out}`, e)!;
      const up = dirname(at);
      if (up === at) throw new TrainError(`--out ${out}: no part of the path exists`);
      at = up;
      continue;
    }
    if (!st.isDirectory()) throw new TrainError(at === abs ? `--out ${out} is not a folder` : `--out ${out}: ${at} is not a folder`);
    try {
      accessSync(at, constants.W_OK | constants.X_OK);
    } catch {
      throw new TrainError(`--out ${out}: ${at} is not writable`);
    }
    return;
  }
}

/** Create the run folder one level at a time (a recursive mkdir can spin on special file systems such as /proc). */
export function createOutFolder(out: string): void {
  const abs = resolve(out);
  const missing: string[] = [];
  for (let at = abs; !existsSync(at); at = dirname(at)) missing.unshift(at);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      throw fsProblem(`--out ${out}: cannot create ${d}`, e) ?? e;
    }
  }
}

/** Whether `out` holds anything a new run would clobber (a dry run's lone config.json does not count). */
export function holdsARun(out: string): boolean {
  if (!existsSync(out)) return false;
  const entries = readdirSync(out);
  if (entries.length === 0) return false;
  if (entries.length === 1 && entries[0] === 'config.json') {
    try {
      return (JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { dry_run?: unknown }).dry_run !== true;
    } catch {
      return true;
    }
  }
  return true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

/**
 * Take the run folder's lock, or throw naming the run that holds it. A lock whose process is gone
 * (same host) is stale: it is replaced and `warn` says so. Returns the release function.
 */
export function acquireLock(out: string, warn: (line: string) => void): () => void {
  const lock = join(out, LOCK_FILE);
  const body = JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }) + '\n';
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      try {
        writeSync(fd, body);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST' || attempt > 0) throw fsProblem(`cannot lock ${out}`, e) ?? e;
    }
    let held: { pid?: unknown; host?: unknown } = {};
    try {
      held = JSON.parse(readFileSync(lock, 'utf8')) as typeof held;
    } catch {
      // An empty or torn lock file: its writer died while writing it.
    }
    const pid = typeof held.pid === 'number' ? held.pid : null;
    const host = typeof held.host === 'string' ? held.host : hostname();
    if (pid !== null && host !== hostname()) {
      throw new TrainError(`${out} is locked by pid ${pid} on host ${host} (${lock}); if that run is gone, delete the lock file`);
    }
    if (pid !== null && pid !== process.pid && alive(pid)) {
      throw new TrainError(`${out} is in use by another rlp run (pid ${pid}, ${lock}); two runs must not write one folder`);
    }
    warn(`warning: removing a stale lock of ${pid === null ? 'an unknown process' : `pid ${pid}`} (${lock}): that process is gone`);
    rmSync(lock, { force: true });
  }
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    try {
      if ((JSON.parse(readFileSync(lock, 'utf8')) as { pid?: unknown }).pid === process.pid) rmSync(lock, { force: true });
    } catch {
      // Already gone.
    }
  };
  // An exit that skips `finally` (a second Ctrl-C) still releases it.
  process.once('exit', release);
  return () => {
    process.off('exit', release);
    release();
  };
}

/**
 * The lines of metrics.jsonl to keep when resuming at `step`: those up to it. A torn last line (a
 * crash mid-write) is dropped with a warning; a malformed line before it is an error naming it.
 */
export function keptMetrics(file: string, step: number, warn: (line: string) => void): string[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const kept: string[] = [];
  const last = lines.reduce((k, l, i) => (l.trim() !== '' ? i : k), -1);
  for (const [i, l] of lines.entries()) {
    if (l.trim() === '') continue;
    let m: { step?: unknown };
    try {
      m = JSON.parse(l) as { step?: unknown };
    } catch {
      if (i === last) {
        warn(`warning: dropping the torn last line ${i + 1} of ${file} (a write was interrupted)`);
        continue;
      }
      throw new TrainError(`${file}:${i + 1}: not valid JSON; metrics.jsonl is corrupted before its last line`);
    }
    if (typeof m.step === 'number' && m.step <= step) kept.push(l);
  }
  return kept;
}

/** Rewrite metrics.jsonl with these lines, atomically. */
export function writeMetrics(file: string, lines: readonly string[]): void {
  writeAtomic(file, lines.map((l) => l + '\n').join(''));
}
