/**
 * One stage of a pipeline as a Python function over torch tensors: one line per IR node, each
 * the node's op's PyTorch form (`OpDef.torch`) with its inputs aligned by dim name, the DSL source
 * in a comment. Values the stage does not compute (standard inputs, earlier stages' results) are
 * keyword arguments; params are keyword arguments with the pipeline's defaults.
 */
import { basename } from 'node:path';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { IrGraph, IrNode, IrOutput, IrParam } from '../ir/graph.js';
import { STANDARD_INPUTS } from '../check/inputs.js';
import type { TorchCtx } from '../ops/define.js';
import { opByName } from '../ops/index.js';
import { pyLiteral } from '../ops/sources.js';
import { lineCol, spanText } from '../../grammar/source.js';
import { alignIndex, pyName, refsIn } from './python.js';

/** An argument of an emitted function: the value it stands for and how `rlp eval` feeds it. */
export interface StageArg {
  readonly name: string;
  readonly node: number;
  readonly dims: readonly string[];
  readonly dtype: string;
  /** The name `rlp eval` feeds this value under (`logp`, `reward.reward`, `advantage.A`...; `state.NAME` for state). */
  readonly feed: string;
}

/** What to emit: the function's name, its result, its metrics and the values it is given. */
export interface StageSpec {
  readonly fn: string;
  readonly doc: string;
  readonly main: IrOutput;
  readonly metrics: readonly IrOutput[];
  /** Nodes computed elsewhere, given as arguments: node id -> argument name and feed name. */
  readonly cut: ReadonlyMap<number, { readonly name: string; readonly feed: string }>;
}

/** An emitted function. */
export interface StageFn {
  readonly fn: string;
  readonly args: readonly StageArg[];
  readonly params: readonly IrParam[];
  /** The names of the values it returns as metrics (`advantage.A`, `loss.ratio`...). */
  readonly outputs: readonly string[];
  /** The IR nodes the function computes (one line each), in order: what it reduces and reads. */
  readonly nodes: readonly number[];
  readonly code: string;
}

interface Line {
  readonly id: number;
  readonly v: string;
  readonly expr: string;
  readonly refs: readonly string[];
  readonly dims: readonly string[];
  readonly like: boolean;
  readonly comment: string;
}

const LIKE = '__LIKE__';
const dimsOf = (n: IrNode): readonly string[] => (n.type.kind === 'tensor' ? n.type.dims : []);
const dtypeOf = (n: IrNode): string => (n.type.kind === 'tensor' ? n.type.dtype : n.type.kind);

/** Balance the parentheses of a span's text (a binary op's span omits its operands' outer ones). */
function balanced(text: string): string {
  let depth = 0;
  let open = 0;
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) {
      open++;
      depth = 0;
    }
  }
  return '('.repeat(open) + text + ')'.repeat(depth);
}

function comment(n: IrNode): string {
  const s = n.spans[0];
  if (s === undefined) return `%${n.id} ${n.op}`;
  const text = balanced(spanText(s).replace(/\s+/g, ' ').trim());
  const short = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `${short}  (${basename(s.file.path)}:${lineCol(s.file, s.start).line})`;
}

/** Emit one stage function; diagnostics name ops without a PyTorch form. */
export function emitStage(g: IrGraph, spec: StageSpec, diags: Diagnostic[]): StageFn {
  const reach = new Set<number>();
  const stack = [spec.main.node, ...spec.metrics.map((m) => m.node)];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (reach.has(id)) continue;
    reach.add(id);
    if (!spec.cut.has(id)) stack.push(...g.node(id).inputs);
  }
  const taken = new Set<string>([...g.meta.params.map((p) => pyName(p.name)), ...g.meta.dimOrder.map(pyName)]);
  const vars = new Map<number, string>();
  const host = new Set<number>();
  const args: StageArg[] = [];
  const lines: Line[] = [];
  const named = new Map<number, string>();
  for (const o of [...g.outputs].reverse()) if (o.name !== 'loss') named.set(o.node, o.name.slice(o.name.indexOf('.') + 1));
  for (const o of [spec.main, ...spec.metrics]) if (o.name !== 'loss' && !spec.cut.has(o.node)) named.set(o.node, o.name.slice(o.name.indexOf('.') + 1));
  if (spec.main.name === 'loss' && !named.has(spec.main.node)) named.set(spec.main.node, 'loss');
  const fresh = (want: string, id: number): string => {
    let v = pyName(want);
    if (taken.has(v)) v = `${v}_${id}`;
    taken.add(v);
    return v;
  };
  for (const n of g.ordered()) {
    if (!reach.has(n.id)) continue;
    const op = opByName(n.op);
    const cut = spec.cut.get(n.id);
    if (cut !== undefined || (op?.traits.includes('source') === true && n.op !== 'const' && n.op !== 'param')) {
      const feed = cut?.feed ?? (n.op === 'input' ? String(n.attrs['name']) : `${n.op}.${String(n.attrs['name'])}`);
      const v = fresh(cut?.name ?? String(n.attrs['name']), n.id);
      vars.set(n.id, v);
      args.push({ name: v, node: n.id, dims: dimsOf(n), dtype: dtypeOf(n), feed });
      continue;
    }
    if (n.type.kind !== 'tensor') continue;
    if (op?.torch === undefined) {
      diags.push(diag('RLP5010', n.spans[0]!, { op: n.op, pipeline: g.meta.pipeline }));
      vars.set(n.id, `t${n.id}`);
      continue;
    }
    if (n.op === 'const' || n.op === 'param') {
      const atom = op.torch([], n.attrs, null as unknown as TorchCtx);
      vars.set(n.id, n.op === 'param' ? pyName(atom) : /^-/.test(atom) ? `(${atom})` : atom);
      host.add(n.id);
      continue;
    }
    lines.push(emitNode(g, n, vars, host, (want) => fresh(want, n.id), named.get(n.id)));
  }
  return finish(g, spec, args, lines, vars);
}

function emitNode(g: IrGraph, n: IrNode, vars: Map<number, string>, host: Set<number>, fresh: (w: string) => string, name: string | undefined): Line {
  const op = opByName(n.op)!;
  const out = dimsOf(n);
  const in0 = n.inputs[0] === undefined ? [] : dimsOf(g.node(n.inputs[0]));
  const aligns = op.traits.includes('elementwise') || op.traits.includes('broadcast');
  const xs = n.inputs.map((id, k) => {
    const v = vars.get(id)!;
    if (host.has(id)) return v;
    if (aligns) return alignIndex(v, dimsOf(g.node(id)), out);
    if (op.traits.includes('reduction') && k > 0) return alignIndex(v, dimsOf(g.node(id)), in0);
    return v;
  });
  const sizes = new Set<string>();
  const size = (d: string): string => {
    sizes.add(d);
    return pyName(d);
  };
  const over = (n.attrs['over'] as readonly string[] | undefined) ?? (typeof n.attrs['dim'] === 'string' ? [n.attrs['dim']] : []);
  const ctx: TorchCtx = {
    axes: over.map((d) => in0.indexOf(d)),
    outSizes: out.map(size),
    size,
    tensor: (i) => (host.has(n.inputs[i]!) ? `_t(${xs[i]!}, ${LIKE})` : xs[i]!),
    isNumber: (i) => host.has(n.inputs[i]!),
    isBool: (i) => dtypeOf(g.node(n.inputs[i]!)) === 'bool',
    like: LIKE,
  };
  const expr = op.torch!(xs, n.attrs, ctx);
  if (n.inputs.every((i) => host.has(i)) && !/[A-Za-z_][\w.]*\(/.test(expr.replace(/float\("-?inf"\)|float\("nan"\)/g, '0'))) host.add(n.id);
  const v = fresh(name ?? `t${n.id}`);
  vars.set(n.id, v);
  const refs = refsIn(expr, new Set(n.inputs.map((i) => vars.get(i)!)));
  return { id: n.id, v, expr, refs, dims: [...sizes], like: expr.includes(LIKE), comment: comment(n) };
}

function finish(g: IrGraph, spec: StageSpec, allArgs: StageArg[], lines: Line[], vars: Map<number, string>): StageFn {
  const ret = [spec.main, ...spec.metrics].map((o) => vars.get(o.node)!);
  const live = new Set<string>(ret);
  for (let i = lines.length - 1; i >= 0; i--) if (live.has(lines[i]!.v)) for (const r of lines[i]!.refs) live.add(r);
  const kept = lines.filter((l) => live.has(l.v));
  const order = (a: StageArg): number => {
    const i = STANDARD_INPUTS.findIndex((s) => s.name === a.feed);
    return i < 0 ? STANDARD_INPUTS.length : i;
  };
  const sorted = [...allArgs].sort((a, b) => order(a) - order(b) || a.node - b.node);
  const floats = sorted.filter((a) => a.dtype === 'f32' && a.dims.length > 0);
  let like = floats.find((a) => live.has(a.name)) ?? floats[0];
  if (kept.some((l) => l.like) && like === undefined) like = sorted.find((a) => a.dims.length > 0);
  if (like !== undefined && kept.some((l) => l.like)) live.add(like.name);
  const sizeLines: string[] = [];
  const dims = [...new Set(kept.flatMap((l) => l.dims))];
  const bySource = new Map<string, string[]>();
  for (const d of dims) {
    const src = sorted.find((a) => live.has(a.name) && a.dims.includes(d)) ?? sorted.find((a) => a.dims.includes(d));
    if (src === undefined) throw new StageError(diag('RLP5011', g.node(spec.main.node).spans[0]!, { dim: d, fn: spec.fn }));
    live.add(src.name);
    bySource.set(src.name, [...(bySource.get(src.name) ?? []), d]);
  }
  for (const [src, ds] of bySource) {
    const a = sorted.find((x) => x.name === src)!;
    if (ds.length === a.dims.length) sizeLines.push(`${a.dims.map(pyName).join(', ')}${a.dims.length === 1 ? ',' : ''} = ${src}.shape`);
    else for (const d of ds) sizeLines.push(`${pyName(d)} = ${src}.shape[${a.dims.indexOf(d)}]`);
  }
  const args = sorted.filter((a) => live.has(a.name));
  const used = new Set(kept.flatMap((l) => l.refs));
  const params = g.meta.params.filter((p) => used.has(pyName(p.name)) || ret.includes(pyName(p.name)));
  const likeName = like?.name ?? 'None';
  const body = kept.map((l) => `    ${l.v} = ${l.expr.split(LIKE).join(likeName)}  # ${l.comment}`);
  const metrics = spec.metrics.map((m) => `${JSON.stringify(m.name)}: ${vars.get(m.node)!}`).join(', ');
  const code = [
    signature(spec.fn, args, params),
    ...docstring(spec.doc, args, g),
    ...sizeLines.map((l) => `    ${l}`),
    ...body,
    `    return ${vars.get(spec.main.node)!}, {${metrics}}`,
  ].join('\n');
  return { fn: spec.fn, args, params, outputs: spec.metrics.map((m) => m.name), nodes: kept.map((l) => l.id), code };
}

function signature(fn: string, args: readonly StageArg[], params: readonly IrParam[]): string {
  const parts = [...args.map((a) => a.name), ...params.map((p) => `${pyName(p.name)}=${p.default === null ? 'None' : pyLiteral(p.default, p.type === 'float')}`)];
  return `def ${fn}(\n    *,\n${parts.map((p) => `    ${p},`).join('\n')}\n):`;
}

function docstring(doc: string, args: readonly StageArg[], g: IrGraph): string[] {
  const std = new Map(STANDARD_INPUTS.map((s) => [s.name, s.doc]));
  // The pipeline's declared inputs (`inputs { ... }`), with their docs.
  for (const d of g.meta.inputs ?? []) std.set(d.name, d.doc === '' ? `declared input \`${d.name}\`` : d.doc);
  const out = [`    """${doc}`, '', '    Arguments (tensors, dims in this order):'];
  for (const a of args) {
    const stage = a.feed.slice(0, a.feed.indexOf('.'));
    const from = stage === 'reward' ? 'the trainer\'s reward functions' : stage === 'advantage' ? 'compute_advantage' : 'an earlier step';
    const name = a.feed.slice(stage.length + 1);
    const what = std.get(a.feed) ?? (stage === 'reward_fn' ? `the reward function \`${name}\``
      : stage === 'state' ? `the state \`${name}\` at the start of the step (compute_update gives the next)`
        : `the ${stage} stage's \`${name}\` (from ${from})`);
    out.push(`      ${a.name}: ${a.dtype}[${a.dims.join(', ')}]  ${what}`);
  }
  out.push('    """');
  return out;
}

/** A problem that stops the export (carries its diagnostic). */
export class StageError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
    this.name = 'StageError';
  }
}
