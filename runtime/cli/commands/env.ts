/** `rlp env`: versions, and what each backend reports here. */
import { createRequire } from 'node:module';
import { BACKEND_NAMES, BackendUnavailable, DEFAULT_BACKEND } from '../../backends/index.js';
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

/** Run `rlp env`; returns the exit code. */
export async function runEnv(): Promise<number> {
  const lines = [
    `rlp ${VERSION}`,
    `node ${process.version} (${process.platform} ${process.arch})`,
    ...['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'].map((p) => `${p} ${version(p)}`),
    '',
    `backends (default: ${DEFAULT_BACKEND}):`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const { useBackend } = await import('../../backends/index.js');
  for (const name of BACKEND_NAMES) {
    let status: string;
    try {
      const { tf, info } = await useBackend(name);
      const t = tf.sum(tf.tensor1d([1, 2, 3]));
      const probe = (await t.data())[0];
      t.dispose();
      status = `ok            ${info.detail}${probe === 6 ? '' : ' (self-test FAILED)'}`;
    } catch (e) {
      status = e instanceof BackendUnavailable ? `unavailable   ${e.message}; ${e.help}` : `failed        ${(e as Error).message}`;
    }
    process.stdout.write(`  ${name.padEnd(11)} ${status}\n`);
  }
  return EXIT.ok;
}
