/** Writing eval results: JSON or msgpack, atomically (a temp file renamed into place). */
import { extname } from 'node:path';
import { pack } from 'msgpackr';
import { writeAtomic } from '../files/write-atomic.js';
import type { HostTensor } from './read.js';

/** A tensor as written: `{shape, data}` with plain numbers (NaN/inf as strings in JSON). */
export function tensorToPlain(t: HostTensor, json: boolean): { shape: number[]; data: (number | string)[] } {
  const data = Array.from(t.data, (v) => (json && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v));
  return { shape: [...t.shape], data };
}

/** Plain values written beside the tensors, e.g. `timing` from `rlp eval --repeat`. */
export type Extras = Readonly<Record<string, unknown>>;

/** The results as one JSON text. */
export function resultsToJson(results: Readonly<Record<string, HostTensor>>, extras: Extras = {}): string {
  const obj = { ...Object.fromEntries(Object.entries(results).map(([k, v]) => [k, tensorToPlain(v, true)])), ...extras };
  return JSON.stringify(obj, null, 2) + '\n';
}

/** Write results to `path` (.json or .msgpack by extension) without leaving a partial file. */
export function writeResults(path: string, results: Readonly<Record<string, HostTensor>>, extras: Extras = {}): void {
  const isJson = extname(path).toLowerCase() === '.json';
  const body = isJson
    ? resultsToJson(results, extras)
    : pack({ ...Object.fromEntries(Object.entries(results).map(([k, v]) => [k, tensorToPlain(v, false)])), ...extras });
  writeAtomic(path, body);
}
