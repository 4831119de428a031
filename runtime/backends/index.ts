/**
 * TF.js backends: `wasm` (default), `cpu` (reference), `webgpu` (through the `webgpu` package,
 * which ships Dawn; needs a Vulkan driver on Linux), `tensorflow` (tfjs-node, only when the user
 * installed it). Selecting one loads it, installs our fixes, and reports what it is.
 */
import { installFixes } from './fixes.js';
import { loadTf, requireTf, type TFModule } from './tf.js';

export const BACKEND_NAMES = ['wasm', 'cpu', 'webgpu', 'tensorflow'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const DEFAULT_BACKEND: BackendName = 'wasm';

/** A backend that could not be started, with what to do about it. */
export class BackendUnavailable extends Error {
  constructor(
    readonly backend: string,
    message: string,
    readonly help: string,
  ) {
    super(message);
    this.name = 'BackendUnavailable';
  }
}

/** What a started backend reports about itself. */
export interface BackendInfo {
  readonly name: BackendName;
  readonly detail: string;
}

let gpuAdapterInfo: string | null = null;

async function setupWebgpu(tf: TFModule): Promise<string> {
  process.env['XDG_RUNTIME_DIR'] ??= '/tmp';
  let webgpu: { create: (o: string[]) => GpuLike; globals: object };
  try {
    webgpu = (await import('webgpu')) as unknown as typeof webgpu;
  } catch (e) {
    throw new BackendUnavailable('webgpu', `cannot load the \`webgpu\` package: ${(e as Error).message}`, 'run `npm ci` to install it');
  }
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  if (nav?.gpu === undefined) {
    Object.assign(globalThis, webgpu.globals);
    const gpu = webgpu.create([]);
    if ((globalThis as { navigator?: object }).navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    Object.defineProperty((globalThis as unknown as { navigator: object }).navigator, 'gpu', { value: gpu, configurable: true });
  }
  const gpu = (globalThis as unknown as { navigator: { gpu: GpuLike } }).navigator.gpu;
  const adapter = await gpu.requestAdapter();
  if (adapter === null) {
    throw new BackendUnavailable('webgpu', 'no WebGPU adapter: Dawn found no Vulkan driver on this machine',
      'install one; on a CPU-only Debian machine, Mesa lavapipe: add bookworm-backports, then `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`');
  }
  const i = adapter.info;
  gpuAdapterInfo = [i.vendor, i.architecture, i.device, i.description].filter((x) => x !== undefined && x !== '').join(' / ');
  requireTf('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new BackendUnavailable('webgpu', 'TF.js could not start its webgpu backend', 'try `--backend wasm`');
  return gpuAdapterInfo;
}

interface GpuLike {
  requestAdapter(): Promise<{ info: { vendor?: string; architecture?: string; device?: string; description?: string } } | null>;
}

async function setupTensorflow(tf: TFModule): Promise<string> {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) return `${pkg} (libtensorflow)`;
    } catch (e) {
      errors.push(`${pkg}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new BackendUnavailable('tensorflow', 'the tensorflow backend needs `@tensorflow/tfjs-node` or `@tensorflow/tfjs-node-gpu`, and neither is installed',
    'install one with `npm install @tensorflow/tfjs-node` (its install downloads libtensorflow, so it needs network access), or use `--backend wasm`');
}

/** Start a backend; throws BackendUnavailable with a clear message when it cannot run here. */
export async function useBackend(name: BackendName): Promise<{ tf: TFModule; info: BackendInfo }> {
  const tf = await loadTf();
  let detail: string;
  if (name === 'webgpu') detail = tf.getBackend() === 'webgpu' ? (gpuAdapterInfo ?? '') : await setupWebgpu(tf);
  else if (name === 'tensorflow') detail = await setupTensorflow(tf);
  else {
    if (name === 'wasm') requireTf('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend(name))) throw new BackendUnavailable(name, `TF.js could not start its ${name} backend`, 'try `--backend cpu`');
    detail = name === 'wasm' ? 'WebAssembly (SIMD when the CPU has it)' : 'plain JavaScript (the reference)';
  }
  await tf.ready();
  installFixes(tf, name);
  return { tf, info: { name, detail } };
}

/** Whether a WebGPU adapter exists here (without switching backends). */
export async function webgpuAvailable(): Promise<boolean> {
  try {
    const tf = await loadTf();
    const prev = tf.getBackend();
    await useBackend('webgpu');
    if (prev !== undefined && prev !== 'webgpu') await tf.setBackend(prev);
    return true;
  } catch {
    return false;
  }
}
