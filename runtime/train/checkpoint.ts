/**
 * Checkpoints: `OUT/checkpoint-N/` holds the weights, the optimizer state and everything else a run
 * needs to continue exactly (RNG state, data cursor, pipeline state). `manifest.json` is written
 * last, with the size and SHA-256 of every file: its presence marks a complete checkpoint. `latest`
 * names the newest complete one; it is replaced atomically (write, then rename). A checkpoint with
 * a non-finite value is never written, and one found on disk (an older rlp's) is skipped on resume.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../files/write-atomic.js';
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

/** A checkpoint that must not be written (it holds a non-finite value). */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export { writeAtomic };

/** Where a tensor holds its first non-finite value, as `holds NaN at index i`, or null. */
function nonFinite(data: Float32Array): string | null {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return `holds ${data[i]} at index ${i}`;
  return null;
}

/** The first non-finite number in JSON-able state, as `state \`path\` holds NaN`, or null. */
function nonFiniteState(v: unknown, path: string): string | null {
  if (typeof v === 'number') return Number.isFinite(v) ? null : `state \`${path}\` holds ${v}`;
  if (ArrayBuffer.isView(v)) {
    const d = v as unknown as ArrayLike<number>;
    for (let i = 0; i < d.length; i++) if (typeof d[i] === 'number' && !Number.isFinite(d[i]!)) return `state \`${path}\` holds ${d[i]} at index ${i}`;
    return null;
  }
  if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      const r = nonFiniteState(x, path === '' ? k : `${path}.${k}`);
      if (r !== null) return r;
    }
  }
  return null;
}

/** Why this checkpoint's values must not be saved or resumed from (a non-finite value), or null. */
export function nonFiniteIn(c: CheckpointData): string | null {
  for (const [k, t] of Object.entries(c.weights)) {
    const r = nonFinite(t.data);
    if (r !== null) return `\`${k}\` ${r}`;
  }
  for (const which of ['m', 'v'] as const) {
    for (const [i, t] of c.optimizer[which].entries()) {
      const r = nonFinite(t.data);
      if (r !== null) return `optimizer \`${which}[${i}]\` ${r}`;
    }
  }
  return nonFiniteState(c.state, '');
}

/** Save a checkpoint under `out`; returns its folder. Throws CheckpointError, writing nothing, when a value is not finite. */
export function saveCheckpoint(out: string, c: CheckpointData): string {
  const bad = nonFiniteIn(c);
  if (bad !== null) throw new CheckpointError(`checkpoint-${c.step} was not written: ${bad}`);
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

/** Why a checkpoint folder cannot be resumed from, or null when it can. */
export function checkpointProblem(dir: string): string | null {
  const mf = join(dir, 'manifest.json');
  if (!existsSync(mf)) return 'no manifest.json (its save was interrupted)';
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(mf, 'utf8')) as Manifest;
  } catch {
    return 'manifest.json is not valid JSON';
  }
  for (const [name, f] of Object.entries(m.files ?? {})) {
    const p = join(dir, name);
    if (!existsSync(p)) return `${name} is missing`;
    const b = readFileSync(p);
    if (b.byteLength !== f.bytes) return `${name} has ${b.byteLength} bytes, its manifest says ${f.bytes} (truncated?)`;
    if (sha256(b) !== f.sha256) return `${name} does not match the SHA-256 in its manifest`;
  }
  try {
    return nonFiniteIn(loadCheckpoint(dir));
  } catch (e) {
    return `it cannot be read (${(e as Error).message})`;
  }
}

/** The newest checkpoint under `out` that can be resumed from, and the newer ones skipped with why. */
export function findCheckpoint(out: string): { dir: string | null; skipped: string[] } {
  const skipped: string[] = [];
  if (!existsSync(out)) return { dir: null, skipped };
  const steps = readdirSync(out)
    .map((n) => /^checkpoint-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  for (const s of steps) {
    const dir = join(out, `checkpoint-${s}`);
    const why = checkpointProblem(dir);
    if (why === null) return { dir, skipped };
    skipped.push(`checkpoint-${s}: ${why}`);
  }
  return { dir: null, skipped };
}

/** The newest complete checkpoint folder under `out`, or null (see findCheckpoint for why others were skipped). */
export function latestCheckpoint(out: string): string | null {
  return findCheckpoint(out).dir;
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
