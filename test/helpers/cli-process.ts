/** Spawning the built CLI (`node dist/rlp.mjs`) as a real process, for tests of signals, resume, locks and disks. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Build dist/rlp.mjs if this checkout has none. `npm test` builds it first; rebuilding here would
 * race with other test files spawning the bundle in parallel (run `npm run build` after changing
 * the sources when running these files alone).
 */
export function buildCli(): void {
  if (existsSync('dist/rlp.mjs')) return;
  const r = spawnSync(process.execPath, ['runtime/cli/build.mjs'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}

/** Run the CLI to completion. */
export function rlpSync(args: readonly string[], opts: { shell?: string } = {}): { code: number | null; err: string; out: string } {
  const r = opts.shell !== undefined
    ? spawnSync('sh', ['-c', `${opts.shell}; exec "$0" "$@"`, process.execPath, 'dist/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
    : spawnSync(process.execPath, ['dist/rlp.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, err: r.stderr, out: r.stdout };
}

/** The lines of a run's metrics.jsonl without step_time (the one value that differs between equal runs). */
export function metricsOf(out: string): Record<string, unknown>[] {
  const f = join(out, 'metrics.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => {
    const { step_time: _, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return rest;
  });
}

/**
 * Start the CLI, wait until `ready()` holds (polled), then send `signals` in turn, each after the
 * run has said it saw the one before (signals sent together would merge into one); resolves with
 * the exit code and stderr.
 */
export function rlpSignalled(args: readonly string[], ready: () => boolean, signals: readonly NodeJS.Signals[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, ['dist/rlp.mjs', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => {
    let sent = 0;
    const t = setInterval(() => {
      if (child.exitCode !== null || !ready()) return;
      if (sent > 0 && err.split('interrupted (').length - 1 < sent) return;
      child.kill(signals[sent++]!);
      if (sent === signals.length) clearInterval(t);
    }, 20);
    child.on('close', (code, signal) => {
      clearInterval(t);
      resolve({ code: code ?? (signal === null ? null : -1), err });
    });
  });
}
