/** `rlp env`: versions, and what each backend reports here. */
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { BACKEND_NAMES, BackendUnavailable, DEFAULT_BACKEND, type BackendName } from '../../backends/index.js';
import { EXIT } from '../io.js';
import { VERSION } from '../version.js';

const require = createRequire(import.meta.url);

function version(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** Native libraries (Dawn) print paths of the machine they were built on; show only the file name. */
export function hideBuildPaths(text: string): string {
  return text.replace(/(?:[A-Za-z]:\\|\/)(?:[^\s:'"()]+[\\/])+([^\s:'"()\\/]+)/g, '$1');
}

/** One backend's status line: `ok  detail`, `unavailable  why; help`, or `failed  why`. */
export async function probeBackend(name: BackendName): Promise<string> {
  const { useBackend } = await import('../../backends/index.js');
  try {
    const { tf, info } = await useBackend(name);
    const t = tf.sum(tf.tensor1d([1, 2, 3]));
    const probe = (await t.data())[0];
    t.dispose();
    return `ok            ${info.detail}${probe === 6 ? '' : ' (self-test FAILED)'}`;
  } catch (e) {
    return e instanceof BackendUnavailable ? `unavailable   ${e.message}; ${e.help}` : `failed        ${(e as Error).message}`;
  }
}

/** Probe webgpu in a child process, so that what Dawn writes to stderr can be shown without build-host paths. */
function probeInChild(name: BackendName): { status: string; notes: string[] } {
  const r = spawnSync(process.execPath, [process.argv[1]!, 'env', '--probe', name], { encoding: 'utf8' });
  const notes = (r.stderr ?? '').split('\n').map((l) => hideBuildPaths(l.trim())).filter((l) => l !== '');
  const status = (r.stdout ?? '').trim();
  return { status: hideBuildPaths(status === '' ? `failed        the probe exited with ${String(r.status)}` : status), notes };
}

/** Run `rlp env` (or, with `probe`, print one backend's status line); returns the exit code. */
export async function runEnv(probe?: string): Promise<number> {
  if (probe !== undefined) {
    process.stdout.write((await probeBackend(probe as BackendName)) + '\n');
    return EXIT.ok;
  }
  const lines = [
    `rlp ${VERSION}`,
    `node ${process.version} (${process.platform} ${process.arch})`,
    ...['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'].map((p) => `${p} ${version(p)}`),
    '',
    `backends (default: ${DEFAULT_BACKEND}):`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  for (const name of BACKEND_NAMES) {
    const { status, notes } = name === 'webgpu' ? probeInChild(name) : { status: hideBuildPaths(await probeBackend(name)), notes: [] };
    process.stdout.write(`  ${name.padEnd(11)} ${status}\n`);
    for (const n of notes) process.stdout.write(`              ${n}\n`);
  }
  return EXIT.ok;
}
