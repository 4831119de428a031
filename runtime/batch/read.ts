/**
 * Batch files: a JSON object or msgpack map from names to tensors `{shape, data}` (or bare
 * numbers for scalars). Reading reports problems as diagnostics that point into the file.
 */
import { readFileSync } from 'node:fs';
import { stripBom, utf16Kind, utf16Message } from '../../grammar/encoding.js';
import { extname } from 'node:path';
import * as jsonc from 'jsonc-parser';
import { unpack } from 'msgpackr';
import { makeSource, span, type SourceFile, type Span } from '../../grammar/source.js';
import { diag, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';

/** A tensor as read from a batch file. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** One fed entry: its value and where in the file it was written. */
export interface BatchEntry {
  readonly name: string;
  readonly tensor: HostTensor;
  readonly span: Span;
}

/** A read batch, or the problems that stopped reading it. */
export interface BatchResult {
  readonly entries: readonly BatchEntry[];
  readonly diagnostics: readonly Diagnostic[];
  readonly file: SourceFile;
}

export const BATCH_EXTENSIONS = ['.json', '.msgpack', '.mpk'] as const;

/** Read and decode a batch file (the extension picks the format). */
export function readBatch(path: string, display = path): BatchResult {
  const bytes = readFileSync(path);
  const isJson = extname(path).toLowerCase() === '.json';
  const file = makeSource(display, isJson ? stripBom(bytes.toString('utf8')) : '');
  const fail = (d: Diagnostic): BatchResult => ({ entries: [], diagnostics: [d], file });
  const utf16 = isJson ? utf16Kind(bytes) : null;
  if (utf16 !== null) return fail(diag('RLP6009', span(file, 0, 0), { what: utf16Message(utf16) }));
  if (bytes.length === 0 || (isJson && file.text.trim() === '')) return fail(diag('RLP6008', span(file, 0, 0), { file: display }));
  if (isJson) return readJson(file);
  let value: unknown;
  try {
    value = unpack(bytes);
  } catch (e) {
    return fail(diag('RLP6007', span(file, 0, 0), { file: display, detail: (e as Error).message.split('\n')[0]! }));
  }
  const at = span(file, 0, 0);
  return fromObject(value, file, () => at);
}

/** The deepest a batch's JSON may nest: tensors need a few levels; thousands overflow the parser's stack. */
export const MAX_JSON_DEPTH = 64;

/** The offset where `text` first nests deeper than `max` brackets (outside strings), or -1. */
function tooDeep(text: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) return i;
    } else if (c === 93 || c === 125) depth--;
  }
  return -1;
}

/**
 * A JSON batch is parsed by JSON.parse (native, about the size of its numbers in memory), never
 * into a syntax tree (a node per number: a 200 MB batch took gigabytes and aborted out of
 * memory). Only on an error does a scanner walk the text, keeping nothing but the first error.
 */
function readJson(file: SourceFile): BatchResult {
  const deep = tooDeep(file.text, MAX_JSON_DEPTH);
  if (deep >= 0) return { entries: [], diagnostics: [diag('RLP6009', span(file, deep, deep + 1), { what: `the JSON is nested more than ${MAX_JSON_DEPTH} levels deep` })], file };
  let value: unknown;
  try {
    value = JSON.parse(file.text);
  } catch {
    return { entries: [], diagnostics: [jsonError(file)], file };
  }
  const keys = topLevelKeys(file.text);
  const first = file.text.search(/\S/);
  const keySpan = (name: string): Span => {
    const k = keys.get(name);
    return k === undefined ? span(file, first, first + 1) : span(file, k[0], k[1]);
  };
  return fromObject(value, file, keySpan);
}

/** The first syntax error of a JSON text JSON.parse rejected, found by a streaming scan that builds nothing. */
function jsonError(file: SourceFile): Diagnostic {
  let found: { error: jsonc.ParseErrorCode; offset: number; length: number } | null = null;
  const stop = new Error('first error');
  try {
    jsonc.visit(file.text, {
      onError: (error, offset, length) => {
        found = { error, offset, length };
        throw stop;
      },
    }, { disallowComments: true, allowTrailingComma: false });
  } catch (e) {
    if (e !== stop) throw e;
  }
  const e = found as { error: jsonc.ParseErrorCode; offset: number; length: number } | null;
  const at = e === null ? span(file, 0, 0) : span(file, e.offset, e.offset + Math.max(1, e.length));
  return diag('RLP6009', at, { what: e === null ? 'the file holds no JSON value' : `invalid JSON: ${describeJsonError(e.error)}` });
}

/** Where each key of the top-level object is written (its first occurrence, quotes included), by one scan of the text. */
function topLevelKeys(text: string): Map<string, [number, number]> {
  const keys = new Map<string, [number, number]>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
      if (depth === 1 && expectKey) {
        const name = JSON.parse(text.slice(start, i + 1)) as string;
        if (!keys.has(name)) keys.set(name, [start, i + 1]);
        expectKey = false;
      }
    } else if (c === 123 || c === 91) {
      depth++;
      expectKey = depth === 1 && c === 123;
    } else if (c === 125 || c === 93) depth--;
    else if (c === 44 && depth === 1) expectKey = true;
  }
  return keys;
}

function describeJsonError(code: jsonc.ParseErrorCode): string {
  const name = jsonc.printParseErrorCode(code);
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

function fromObject(value: unknown, file: SourceFile, spanOf: (name: string) => Span): BatchResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    const d = diag('RLP6009', span(file, 0, Math.min(1, file.text.length)), { what: 'the batch must be an object mapping input names to tensors' });
    return { entries: [], diagnostics: [d], file };
  }
  const entries: BatchEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  const obj = value instanceof Map ? Object.fromEntries(value) : (value as Record<string, unknown>);
  for (const [name, v] of Object.entries(obj)) {
    const at = spanOf(name);
    const t = toTensor(name, v, at, diagnostics);
    if (t !== null) entries.push({ name, tensor: t, span: at });
  }
  return { entries, diagnostics, file };
}

function toTensor(name: string, v: unknown, at: Span, out: Diagnostic[]): HostTensor | null {
  if (typeof v === 'number') return { shape: [], data: Float64Array.of(v) };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    out.push(diag('RLP6009', at, { what: `\`${name}\` must be a number or a tensor \`{"shape": [...], "data": [...]}\`` }));
    return null;
  }
  const o = v instanceof Map ? Object.fromEntries(v) : (v as Record<string, unknown>);
  const shape = o['shape'];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    out.push(diag('RLP6009', at, { what: `\`${name}\` needs \`shape\`: a list of non-negative integers` }));
    return null;
  }
  const data = toNumbers(name, o['data'], at, out);
  if (data === null) return null;
  const want = (shape as number[]).reduce((a, b) => a * b, 1);
  if (data.length !== want) {
    const float64 = isBinary(o['data']) && data.length === 2 * want;
    out.push(diag('RLP6003', at, { name, found: data.length, shape: (shape as number[]).join(','), want }, {
      help: float64 ? 'these look like float64 bytes read as float32: write float32 (e.g. `x.astype(np.float32).tobytes()`) or a list of numbers' : null,
    }));
    return null;
  }
  return { shape: shape as number[], data };
}

function isBinary(d: unknown): boolean {
  return d instanceof Uint8Array && !(d instanceof Float32Array);
}

function toNumbers(name: string, d: unknown, at: Span, out: Diagnostic[]): Float64Array | null {
  if (d instanceof Uint8Array && !(d instanceof Float32Array)) {
    if (d.byteLength % 4 !== 0) {
      out.push(diag('RLP6004', at, { what: `\`${name}\`: binary data must be float32 little-endian, a multiple of 4 bytes (found ${d.byteLength})` }));
      return null;
    }
    const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
    return Float64Array.from({ length: d.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
  }
  if (ArrayBuffer.isView(d) && !(d instanceof DataView)) return Float64Array.from(d as unknown as ArrayLike<number>);
  if (!Array.isArray(d)) {
    out.push(diag('RLP6004', at, { what: `\`${name}\` needs \`data\`: a flat list of numbers (row-major)` }));
    return null;
  }
  const bad = d.findIndex((x) => typeof x !== 'number');
  if (bad >= 0) {
    const shown = Array.isArray(d[bad]) ? 'a nested list (data must be flat, row-major)' : `\`${JSON.stringify(d[bad])}\``;
    out.push(diag('RLP6004', at, { what: `\`${name}\`: data[${bad}] is ${shown}, not a number` }));
    return null;
  }
  return Float64Array.from(d as number[]);
}
