/**
 * Running exported PyTorch code in tests: Debian's `python3-torch` under `/usr/bin/python3` (another
 * python3 may come first on PATH). Many cases go to one Python process (test/helpers/torch_run.py).
 * Under CI (CI=true) torch must be there: .ci/run installs it, and its absence fails the tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The interpreter that has Debian's torch. */
export const PYTHON = process.env['RLP_TORCH_PYTHON'] ?? '/usr/bin/python3';

let available: boolean | null = null;

/** Whether `PYTHON` can import torch. */
export function torchAvailable(): boolean {
  if (available === null) available = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  return available;
}

/** Whether the torch tests run here: always under CI (failing without torch), elsewhere when torch is installed. */
export function torchTestsRun(): boolean {
  return process.env['CI'] === 'true' || torchAvailable();
}

/** A tensor as the runner reads it. */
export interface PyTensor {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** One case: a module, a dtype, fed values by feed name, and the calls in order. */
export interface TorchCase {
  readonly module: string;
  readonly dtype: 'float64' | 'float32';
  readonly inputs: Readonly<Record<string, PyTensor>>;
  readonly calls: readonly { readonly fn: string; readonly args: Readonly<Record<string, string>>; readonly params?: Readonly<Record<string, number | boolean>> }[];
}

/** A case's results by name (`loss`, `advantage`, `grad.logp`), or the Python traceback. */
export type TorchResult = Readonly<Record<string, readonly number[]>> & { readonly error?: string };

/** Write source to a fresh temporary .py file; returns its path. */
export function writeModule(name: string, code: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rlp-torch-'));
  const path = join(dir, `${name}.py`);
  writeFileSync(path, code);
  return path;
}

/** Run a Python script with a JSON request on stdin; returns its parsed JSON stdout. */
export function runPython(script: string, request: unknown): unknown {
  if (!torchAvailable()) {
    throw new Error(`${PYTHON} cannot import torch: install Debian's python3-torch (apt-get install python3-torch; .ci/run does this in CI)`);
  }
  const r = spawnSync(PYTHON, [script], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}

/** Run every case in one Python process. */
export function runTorchCases(cases: readonly TorchCase[]): TorchResult[] {
  const out = runPython('test/helpers/torch_run.py', { cases }) as { results: TorchResult[] };
  return out.results;
}

/** `python3 -m py_compile FILE`: null when it compiles, else the error text. */
export function pyCompile(path: string): string | null {
  const r = spawnSync(PYTHON, ['-m', 'py_compile', path], { encoding: 'utf8' });
  return r.status === 0 ? null : r.stderr;
}
