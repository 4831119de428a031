/**
 * A user reward module runs in a worker thread, so that a function that loops forever, or returns
 * a promise that never settles, can be cut off after a timeout (`--reward-timeout`) and named,
 * instead of hanging the run. The worker imports the module once and keeps it for the whole run
 * (module state persists between calls, as it would in-process); calls are answered in order.
 */
import { Worker } from 'node:worker_threads';
import type { RewardArgs, RewardValue } from './builtins.js';

/** The default time a reward function (or the module's loading) may take: 60 s. */
export const DEFAULT_REWARD_TIMEOUT_MS = 60_000;

/** A failure inside the worker, described for a message: `threw: ...`, or a timeout. */
export class SandboxFailure extends Error {
  constructor(
    readonly kind: 'threw' | 'timeout' | 'load',
    message: string,
  ) {
    super(message);
    this.name = 'SandboxFailure';
  }
}

// Runs in the worker (CommonJS, evaluated from this string so the bundle needs no extra file).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const describe = (e) => e instanceof Error ? e.message : typeof e === 'string' ? e : (() => { try { return JSON.stringify(e) ?? String(e); } catch { return String(e); } })();
let mod = null;
import(workerData.url).then((m) => {
  mod = m;
  const exports = [];
  for (const [name, v] of Object.entries(m)) if (typeof v === 'function') exports.push({ name, columns: Array.isArray(v.columns) ? v.columns.filter((c) => typeof c === 'string') : [], source: Function.prototype.toString.call(v) });
  parentPort.postMessage({ kind: 'loaded', exports });
}, (e) => parentPort.postMessage({ kind: 'load-failed', message: describe(e) }));
parentPort.on('message', async ({ id, name, args }) => {
  let out;
  try {
    out = await mod[name](args);
  } catch (e) {
    parentPort.postMessage({ kind: 'result', id, ok: false, message: describe(e) });
    return;
  }
  try {
    parentPort.postMessage({ kind: 'result', id, ok: true, out });
  } catch (e) {
    parentPort.postMessage({ kind: 'result', id, ok: false, message: 'returned a value that cannot be passed back (' + describe(e) + ')' });
  }
});
`;

/** An exported function of the module: its export name and declared columns. */
export interface SandboxExport {
  readonly name: string;
  readonly columns: readonly string[];
  /** The function's source text (its destructured parameter names the columns it reads). */
  readonly source: string;
}

interface Pending {
  resolve(v: readonly RewardValue[]): void;
  reject(e: Error): void;
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

/** A module loaded in its own worker thread. */
export class RewardSandbox {
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private dead: string | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly exports: readonly SandboxExport[],
    private readonly timeoutMs: number,
  ) {
    worker.on('message', (m: { kind: string; id: number; ok: boolean; out: readonly RewardValue[]; message: string }) => {
      if (m.kind !== 'result') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) p?.resolve(m.out);
      else p?.reject(new SandboxFailure('threw', m.message));
    });
    const fail = (why: string): void => {
      this.dead = why;
      for (const p of this.pending.values()) p.reject(new SandboxFailure('threw', why));
      this.pending.clear();
    };
    worker.on('error', (e) => fail(e instanceof Error ? e.message : String(e)));
    worker.on('exit', () => fail('its worker stopped'));
    // Idle, the worker does not keep the process alive (unref after the listeners: they ref it).
    worker.unref();
  }

  private settle(): void {
    if (this.pending.size === 0) this.worker.unref();
  }

  /** Import `url` in a new worker (calls may then take `timeoutMs` each); rejects with a SandboxFailure when loading fails or takes longer than `loadTimeoutMs`. */
  static async load(url: string, timeoutMs: number = DEFAULT_REWARD_TIMEOUT_MS, loadTimeoutMs: number = timeoutMs): Promise<RewardSandbox> {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { url } });
    const exports = await new Promise<SandboxExport[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new SandboxFailure('load', `it did not finish loading within ${seconds(loadTimeoutMs)}`));
      }, loadTimeoutMs);
      const done = (): void => clearTimeout(timer);
      worker.once('message', (m: { kind: string; exports: SandboxExport[]; message: string }) => {
        done();
        if (m.kind === 'loaded') resolve(m.exports);
        else {
          void worker.terminate();
          reject(new SandboxFailure('load', m.message));
        }
      });
      worker.once('error', (e) => {
        done();
        reject(new SandboxFailure('load', e instanceof Error ? e.message : String(e)));
      });
    });
    return new RewardSandbox(worker, exports, timeoutMs);
  }

  /** Call the module's export `name`; a call that takes longer than the timeout stops the worker. */
  call(name: string, args: RewardArgs): Promise<readonly RewardValue[]> {
    if (this.dead !== null) return Promise.reject(new SandboxFailure('threw', `cannot be called: ${this.dead}`));
    const id = this.next++;
    return new Promise<readonly RewardValue[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.settle();
        this.dead = `it was stopped after a call took longer than ${seconds(this.timeoutMs)}`;
        void this.worker.terminate();
        reject(new SandboxFailure('timeout', `did not return within ${seconds(this.timeoutMs)} (--reward-timeout); it was stopped`));
      }, this.timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), this.settle(), resolve(v)),
        reject: (e) => (clearTimeout(timer), this.settle(), reject(e)),
      });
      this.worker.ref();
      this.worker.postMessage({ id, name, args });
    });
  }
}
