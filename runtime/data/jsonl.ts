/**
 * JSONL datasets in TRL's formats: prompt rows `{"prompt": ..., <columns>}` and preference rows
 * `{"prompt", "chosen", "rejected"}`. The whole file is validated when a run starts, so a bad line
 * stops it before any training, with the file and line named; rows are then read as a stream.
 */
import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import { stripBom, utf16Kind, utf16Message } from '../../grammar/encoding.js';
import { createInterface } from 'node:readline';

/** A problem with a dataset, located at a line (1-based; 0 for the whole file). */
export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`);
    this.name = 'DataError';
  }
}

export type DatasetKind = 'prompt' | 'preference';

/** One row: the prompt and every other column. */
export type Row = Readonly<Record<string, unknown>> & { readonly prompt: string };

/** What a validated dataset looks like. */
export interface DatasetInfo {
  readonly file: string;
  readonly kind: DatasetKind;
  readonly rows: number;
  /** Columns every row has. */
  readonly columns: readonly string[];
  /** Columns some rows have but not all, with the line of the first row without it. */
  readonly partial: Readonly<Record<string, number>>;
}

async function* lines(file: string): AsyncGenerator<[number, string]> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const raw of rl) {
    n++;
    const line = n === 1 ? stripBom(raw) : raw;
    if (line.trim() !== '') yield [n, line];
  }
}

function parseRow(file: string, n: number, line: string): Row {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new DataError(file, n, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DataError(file, n, 'each line must be a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o['prompt'] !== 'string') throw new DataError(file, n, o['prompt'] === undefined ? 'missing the `prompt` column' : '`prompt` must be a string');
  return o as Row;
}

/** Validate a whole dataset: JSON on every line, a string prompt, the columns the run needs. */
export async function validateDataset(file: string, needed: readonly string[] = []): Promise<DatasetInfo> {
  if (!existsSync(file)) throw new DataError(file, 0, 'no such file');
  if (statSync(file).size === 0) throw new DataError(file, 0, 'the file is empty');
  const head = Buffer.alloc(2);
  const fd = openSync(file, 'r');
  readSync(fd, head, 0, 2, 0);
  closeSync(fd);
  const utf16 = utf16Kind(head);
  if (utf16 !== null) throw new DataError(file, 0, utf16Message(utf16));
  let rows = 0;
  let firstLine = 0;
  const seen: { columns: Set<string> | null; kind: DatasetKind | null } = { columns: null, kind: null };
  const firstSeen = new Map<string, number>();
  const firstLacking = new Map<string, number>();
  for await (const [n, line] of lines(file)) {
    if (rows === 0) firstLine = n;
    const row = parseRow(file, n, line);
    const k: DatasetKind = 'chosen' in row || 'rejected' in row ? 'preference' : 'prompt';
    if (seen.kind !== null && k !== seen.kind) throw new DataError(file, n, `this row is a ${k} row, but earlier rows are ${seen.kind} rows`);
    seen.kind = k;
    if (k === 'preference') {
      for (const c of ['chosen', 'rejected']) if (typeof row[c] !== 'string') throw new DataError(file, n, `a preference row needs a string \`${c}\``);
    }
    for (const c of needed) if (!(c in row)) throw new DataError(file, n, `missing the \`${c}\` column, which the run needs`);
    const keys = new Set(Object.keys(row));
    for (const c of keys) if (!firstSeen.has(c)) firstSeen.set(c, n);
    for (const c of firstSeen.keys()) if (!keys.has(c) && !firstLacking.has(c)) firstLacking.set(c, n);
    seen.columns = seen.columns === null ? keys : new Set([...seen.columns].filter((c) => keys.has(c)));
    rows++;
  }
  if (rows === 0 || seen.kind === null) throw new DataError(file, 0, 'the file holds no rows');
  // A column that first appears after the first row is lacking from the first row.
  for (const [c, at] of firstSeen) if (at > firstLine) firstLacking.set(c, firstLine);
  return { file, kind: seen.kind, rows, columns: [...(seen.columns ?? [])].sort(), partial: Object.fromEntries(firstLacking) };
}

/** Read rows from `start` (0-based row index), cycling through the file forever (or once, without `cycle`). */
export async function* readRows(file: string, start = 0, cycle = true): AsyncGenerator<Row> {
  let index = 0;
  for (;;) {
    let any = false;
    for await (const [n, line] of lines(file)) {
      any = true;
      if (index++ < start) continue;
      yield parseRow(file, n, line);
    }
    if (!any || !cycle) return;
  }
}
