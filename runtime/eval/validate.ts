/** Checking a batch against a pipeline before anything is computed: names, shapes, values, params. */
import type { Span } from '../../grammar/source.js';
import { standardInput } from '../../compiler/check/inputs.js';
import { diag, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import type { IrGraph, IrNode } from '../../compiler/ir/graph.js';
import { formatRange, inRange } from '../../compiler/ir/param-range.js';
import { didYouMean, listChoices } from '../../compiler/suggest.js';
import { formatType, type Type } from '../../compiler/types.js';
import type { BatchEntry } from '../batch/read.js';
import { bypassWarnings, sortEntries } from './batch-names.js';
import { buildPlan, feedableNames, requiredInputs, type Plan } from '../exec/plan.js';
import { parseParam } from '../exec/program.js';

/** A batch that passed validation: the plan, dim sizes, and resolved params. */
export interface ValidBatch {
  readonly plan: Plan;
  readonly sizes: Map<string, number>;
  readonly params: Map<string, number | boolean>;
  readonly entries: readonly BatchEntry[];
}

/** Options that change what is valid. */
export interface ValidateOptions {
  readonly set: Readonly<Record<string, string>>;
  readonly grad: readonly string[];
  readonly allowNonfinite: boolean;
  /** Standard inputs the pipeline does not read are an error, not a warning. */
  readonly strict?: boolean;
  /** Where to point problems that belong to no entry (the batch file's start). */
  readonly fileSpan: Span;
  /** Where each flag sits on the command line (`--set`, `--grad` problems point there); else fileSpan. */
  readonly args?: FlagSpans;
}

/** Spans of the command line: one `FLAG VALUE`, or the whole line. */
export interface FlagSpans {
  flag(flag: string, value: string): Span;
  readonly all: Span;
}

/** Validate a batch; returns the plan inputs, or diagnostics. */
export function validateBatch(g: IrGraph, entries: readonly BatchEntry[], opts: ValidateOptions): { valid: ValidBatch | null; diagnostics: Diagnostic[] } {
  const out: Diagnostic[] = [];
  const feedable = feedableNames(g);
  const known = sortEntries(g, entries, feedable, opts.strict === true, opts.fileSpan, out);
  const sizes = checkShapes(g, known, feedable, out);
  checkSizes(sizes, known, opts.fileSpan, out);
  for (const e of known) checkValues(g.node(feedable.get(e.name)!), e, opts.allowNonfinite, out);
  const params = checkParamSets(g, opts.set, opts.args ?? { flag: () => opts.fileSpan, all: opts.fileSpan }, out);
  const want = g.outputs.filter((o) => g.node(o.node).type.kind === 'tensor').map((o) => o.name);
  const plan = buildPlan(g, known.map((e) => e.name), want);
  for (const n of requiredInputs(plan)) out.push(missing(g, n, opts.fileSpan));
  for (const name of opts.grad) checkGradTarget(g, name, known, feedable, opts.args?.flag('--grad', name) ?? opts.fileSpan, out);
  if (out.some((d) => d.severity === 'error')) return { valid: null, diagnostics: out };
  bypassWarnings(g, new Map(known.map((e) => [e.name, feedable.get(e.name)!])), opts.fileSpan, out);
  return { valid: { plan, sizes, params, entries: known }, diagnostics: out };
}

/** The standard or declared input of this name, with its type and doc. */
function inputInfo(g: IrGraph, name: string): { type: Type; doc: string; declared: boolean } | undefined {
  const own = g.meta.inputs?.find((i) => i.name === name);
  if (own !== undefined) return { type: own.type, doc: own.doc, declared: true };
  const std = standardInput(name);
  return std !== undefined ? { type: std.type, doc: std.doc, declared: false } : undefined;
}

function declaredAs(g: IrGraph, n: IrNode, name: string): string {
  const info = n.op === 'input' ? inputInfo(g, name) : undefined;
  if (info === undefined) return `\`${name}\` is \`${formatType(n.type)}\`, as computed in the pipeline`;
  return `\`${name}\` is ${info.declared ? `an input declared by \`${g.meta.pipeline}\`` : 'a standard input'}, declared \`${formatType(info.type)}\``;
}

/** The largest size a dimension may have: bounded before anything is allocated. */
export const MAX_DIM_SIZE = 2 ** 24;

/**
 * Dimension sizes must be usable before anything is allocated: B and G of at least 1 (an empty
 * batch has no loss), and every size at most MAX_DIM_SIZE (a shape like [1e9, 0] has no data but
 * would size every [B] intermediate at gigabytes).
 */
function checkSizes(sizes: ReadonlyMap<string, number>, entries: readonly BatchEntry[], fileSpan: Span, out: Diagnostic[]): void {
  const at = (d: string): Span => entries.find((e) => e.tensor.shape.length > 0)?.span ?? fileSpan;
  for (const [d, size] of sizes) {
    if (size === 0 && (d === 'B' || d === 'G')) out.push(diag('RLP6002', at(d), { what: `dimension \`${d}\` is 0: the batch is empty, and an empty batch has no loss` }));
    if (size > MAX_DIM_SIZE) out.push(diag('RLP6002', at(d), { what: `dimension \`${d}\` is ${size}, more than the ${MAX_DIM_SIZE} a batch may have` }));
  }
}

function checkShapes(g: IrGraph, entries: readonly BatchEntry[], feedable: Map<string, number>, out: Diagnostic[]): Map<string, number> {
  const sizes = new Map<string, number>();
  const from = new Map<string, string>();
  for (const e of entries) {
    const n = g.node(feedable.get(e.name)!);
    const dims = n.type.kind === 'tensor' ? n.type.dims : [];
    const label = n.op === 'input' ? [] : [{ span: n.spans[0]!, message: `\`${e.name}\` is computed here as \`${formatType(n.type)}\`` }];
    if (e.tensor.shape.length !== dims.length) {
      out.push(diag('RLP6002', e.span, { what: `\`${e.name}\` has shape [${e.tensor.shape.join(',')}] (${e.tensor.shape.length} axes), but it has ${dims.length} dims: \`${formatType(n.type)}\`` }, {
        labels: label, notes: [declaredAs(g, n, e.name)],
      }));
      continue;
    }
    dims.forEach((d, i) => {
      const size = e.tensor.shape[i]!;
      const prev = sizes.get(d);
      if (prev === undefined) {
        sizes.set(d, size);
        from.set(d, e.name);
      } else if (prev !== size) {
        out.push(diag('RLP6002', e.span, { what: `dimension \`${d}\` of \`${e.name}\` is ${size}, but \`${from.get(d)}\` gave it size ${prev}` }, {
          labels: label, notes: [declaredAs(g, n, e.name)],
        }));
      }
    });
  }
  return sizes;
}

function checkValues(n: IrNode, e: BatchEntry, allowNonfinite: boolean, out: Diagnostic[]): void {
  const dtype = n.type.kind === 'tensor' ? n.type.dtype : 'f32';
  // A standard input declared as a mask (`mask`: its type covers the mask role).
  const std = n.op === 'input' ? standardInput(e.name) : undefined;
  const isMask = std?.type.kind === 'tensor' && std.type.covers === 'mask';
  const d = e.tensor.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!Number.isFinite(v)) {
      if (allowNonfinite && dtype === 'f32') continue;
      out.push(diag('RLP6005', e.span, { name: e.name, kind: Number.isNaN(v) ? 'NaN' : v > 0 ? '+Infinity' : '-Infinity', index: i }, {
        help: dtype === 'f32' ? 'pass --allow-nonfinite to feed it anyway' : null,
      }));
      return;
    }
    if (dtype === 'i32' && !Number.isInteger(v)) {
      out.push(diag('RLP6004', e.span, { what: `\`${e.name}\` is \`${formatType(n.type)}\`, but data[${i}] = ${v} is not an integer` }));
      return;
    }
    if (isMask && v !== 0 && v !== 1) {
      out.push(diag('RLP6004', e.span, { what: `\`${e.name}\` is a mask: every value must be 0 or 1, but data[${i}] = ${v}` }, {
        notes: ['a mask selects tokens; a value such as -1 or 0.5 would weigh them instead, and a negative one flips the gradient\'s sign'],
      }));
      return;
    }
    if (dtype === 'bool' && v !== 0 && v !== 1) {
      out.push(diag('RLP6004', e.span, { what: `\`${e.name}\` is \`${formatType(n.type)}\`, but data[${i}] = ${v} is neither 0 nor 1` }));
      return;
    }
  }
}

/** Resolve `--set` values against the params (name, type, range) and the defaults; problems point at each flag. */
export function checkParamSets(g: IrGraph, set: Readonly<Record<string, string>>, at: FlagSpans, out: Diagnostic[]): Map<string, number | boolean> {
  const params = new Map<string, number | boolean>();
  const names = g.meta.params.map((p) => p.name);
  for (const [k, raw] of Object.entries(set)) {
    const p = g.meta.params.find((x) => x.name === k);
    const here = at.flag('--set', `${k}=${raw}`);
    if (p === undefined) {
      out.push(diag('RLP6006', here, { name: k, pipeline: g.meta.pipeline }, { help: didYouMean(k, names) ?? (names.length > 0 ? `its params are ${listChoices(names)}` : 'it has no params') }));
      continue;
    }
    if (p.type === 'choice') continue; // picked and checked at compile time
    const v = parseParam(p.type, raw);
    if (v === null) out.push(diag('RLP6011', here, { name: k, type: p.type, value: raw, want: { int: 'an integer', float: 'a number', bool: '`true` or `false`', string: 'a string' }[p.type] }));
    else if (typeof v === 'number' && p.range !== null && !inRange(p.range, v)) out.push(diag('RLP6030', here, { name: k, value: raw, range: formatRange(p.range) }));
    else if (typeof v !== 'string') params.set(k, v);
  }
  for (const p of g.meta.params) {
    if (params.has(p.name) || p.type === 'string' || p.type === 'choice') continue;
    if (p.default === null) {
      if (set[p.name] === undefined) out.push(diag('RLP6013', at.all, { name: p.name }, { help: `add \`--set ${p.name}=...\`` }));
    } else if (typeof p.default !== 'string') params.set(p.name, p.default);
  }
  return params;
}

/** Parse a `--set` value by the param's type (shared with the program's param resolution). */
export { parseParam };

function missing(g: IrGraph, n: IrNode, at: Span): Diagnostic {
  const name = String(n.attrs['name']);
  if (n.op === 'reward_fn') {
    const users = g.outputs.filter((o) => o.name.startsWith('reward.')).map((o) => o.name.slice(7));
    const feed = users.length > 0 ? listChoices(users) : '`reward`';
    return diag('RLP6001', at, { name: `reward_fn.${name}` }, {
      notes: [`the reward stage calls the reward function \`${name}\`, which needs a rollout that \`rlp eval\` does not have`],
      help: `feed the function's output as \`reward_fn.${name}\` (or \`${name}\`, \`f32[B,G]\`), or the reward stage's result: ${feed}`,
    });
  }
  const info = inputInfo(g, name);
  return diag('RLP6001', at, { name }, { help: `add \`"${name}": {"shape": [...], "data": [...]}\`${info !== undefined ? ` (\`${formatType(info.type)}\`: ${info.doc})` : ''}` });
}

function checkGradTarget(g: IrGraph, name: string, entries: readonly BatchEntry[], feedable: Map<string, number>, at: Span, out: Diagnostic[]): void {
  const id = feedable.get(name);
  if (id === undefined) {
    out.push(diag('RLP6012', at, { name, why: 'it is not an input or a binding of the pipeline' }, { help: didYouMean(name, feedable.keys()) }));
    return;
  }
  const t = g.node(id).type;
  if (t.kind !== 'tensor' || t.dtype !== 'f32') out.push(diag('RLP6012', at, { name, why: `it is \`${formatType(t)}\`, not a float tensor` }));
  else if (!entries.some((e) => e.name === name)) out.push(diag('RLP6012', at, { name, why: 'it is not fed by the batch' }, { help: `feed \`${name}\` in the batch` }));
  else if (!g.outputs.some((o) => o.name === 'loss')) out.push(diag('RLP6012', at, { name, why: `\`${g.meta.pipeline}\` has no loss` }));
}
