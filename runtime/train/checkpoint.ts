/**
 * Checkpoints: `OUT/checkpoint-N/` holds the weights, the optimizer state and everything else a run
 * needs to continue exactly (RNG state, data cursor, pipeline state). `manifest.json` is written
 * last, with the size and SHA-256 of every file: its presence marks a complete checkpoint. `latest`
 * names the newest complete one; it is replaced atomically (write, then rename).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';

/** A named float32 array with its shape. */
export interface SavedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** What a checkpoint holds. */
export interface CheckpointData {
  readonly step: number;
  readonly weights: Readonly<Record<string, SavedTensor>>;
  readonly optimizer: { readonly step: number; readonly m: readonly SavedTensor[]; readonly v: readonly SavedTensor[] };
  /** Small JSON-able state: RNG state, data cursor, pipeline state, config. */
  readonly state: Readonly<Record<string, unknown>>;
}

interface Manifest {
  readonly step: number;
  readonly files: Readonly<Record<string, { readonly bytes: number; readonly sha256: string }>>;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function encodeTensor(t: SavedTensor): { shape: number[]; data: Uint8Array } {
  return { shape: [...t.shape], data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
}

function decodeTensor(x: { shape: number[]; data: Uint8Array }): SavedTensor {
  const bytes = Uint8Array.from(x.data);
  return { shape: x.shape, data: new Float32Array(bytes.buffer, 0, bytes.byteLength / 4) };
}

/** Write `path` so that a reader never sees a partial file. */
function writeAtomic(path: string, body: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, body);
  renameSync(tmp, path);
}

/** Save a checkpoint under `out`; returns its folder. */
export function saveCheckpoint(out: string, c: CheckpointData): string {
  const dir = join(out, `checkpoint-${c.step}`);
  mkdirSync(dir, { recursive: true });
  const files: Record<string, Uint8Array> = {
    'weights.msgpack': pack(Object.fromEntries(Object.entries(c.weights).map(([k, t]) => [k, encodeTensor(t)]))),
    'optimizer.msgpack': pack({ step: c.optimizer.step, m: c.optimizer.m.map(encodeTensor), v: c.optimizer.v.map(encodeTensor) }),
    'state.json': new TextEncoder().encode(JSON.stringify(c.state, null, 2)),
  };
  const manifest: Manifest = { step: c.step, files: {} };
  for (const [name, body] of Object.entries(files)) {
    writeAtomic(join(dir, name), body);
    (manifest.files as Record<string, { bytes: number; sha256: string }>)[name] = { bytes: body.byteLength, sha256: sha256(body) };
  }
  writeAtomic(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  writeAtomic(join(out, 'latest'), `checkpoint-${c.step}\n`);
  return dir;
}

/** Whether a checkpoint folder is complete: a manifest whose files all match their size and hash. */
export function isComplete(dir: string): boolean {
  const mf = join(dir, 'manifest.json');
  if (!existsSync(mf)) return false;
  try {
    const m = JSON.parse(readFileSync(mf, 'utf8')) as Manifest;
    return Object.entries(m.files).every(([name, f]) => {
      const p = join(dir, name);
      if (!existsSync(p)) return false;
      const b = readFileSync(p);
      return b.byteLength === f.bytes && sha256(b) === f.sha256;
    });
  } catch {
    return false;
  }
}

/** The newest complete checkpoint folder under `out` (`latest` first, else the highest complete N). */
export function latestCheckpoint(out: string): string | null {
  const latest = join(out, 'latest');
  if (existsSync(latest)) {
    const dir = join(out, readFileSync(latest, 'utf8').trim());
    if (isComplete(dir)) return dir;
  }
  if (!existsSync(out)) return null;
  const steps = readdirSync(out)
    .map((n) => /^checkpoint-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  for (const s of steps) if (isComplete(join(out, `checkpoint-${s}`))) return join(out, `checkpoint-${s}`);
  return null;
}

/** Load a complete checkpoint folder. */
export function loadCheckpoint(dir: string): CheckpointData {
  if (!isComplete(dir)) throw new Error(`${dir} is not a complete checkpoint (its manifest is missing or does not match its files)`);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const w = unpack(readFileSync(join(dir, 'weights.msgpack'))) as Record<string, { shape: number[]; data: Uint8Array }>;
  const o = unpack(readFileSync(join(dir, 'optimizer.msgpack'))) as { step: number; m: { shape: number[]; data: Uint8Array }[]; v: { shape: number[]; data: Uint8Array }[] };
  return {
    step: m.step,
    weights: Object.fromEntries(Object.entries(w).map(([k, t]) => [k, decodeTensor(t)])),
    optimizer: { step: o.step, m: o.m.map(decodeTensor), v: o.v.map(decodeTensor) },
    state: JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Record<string, unknown>,
  };
}
