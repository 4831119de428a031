/** Completion: what may be typed at the cursor, from the cursor's context and the last analysis. */
import type { PipelineDecl } from '../../grammar/ast.js';
import { KEYWORDS } from '../../grammar/tokens.js';
import type { Module } from '../bind/modules.js';
import { BLOCKS, BUILTIN_REWARDS, STAGES, STANDARD_INPUTS } from '../check/inputs.js';
import { OPS } from '../ops/index.js';
import { formatTypeFull } from '../types.js';
import type { Analysis } from './analysis.js';
import { cursorContext, type CursorContext } from './context.js';
import { BLOCK_DOCS, declarationText, DIM_DOCS, docOf, fnSignature, opSignature } from './describe.js';

/** What a completion item is, for its icon. */
export type CompletionKind = 'binding' | 'param' | 'state' | 'input' | 'reward' | 'op' | 'fn' | 'dim' | 'keyword' | 'block' | 'module' | 'type' | 'local';

/** One completion: the text to insert from `replaceStart` to the cursor, a detail line and docs. */
export interface Completion {
  readonly label: string;
  readonly kind: CompletionKind;
  readonly detail: string;
  readonly doc: string;
  readonly replaceStart: number;
}

const TOP_KEYWORDS = ['import', 'pipeline', 'fn', 'dim'];
const TYPES = ['int', 'float', 'bool', 'string', 'f32', 'i32'];

/**
 * Completions at `offset` of `text` (the file at `absPath`). Names come from `a`, which may be
 * an analysis of an older version of the text that parsed: pipelines and functions are found by
 * name, so the completions survive the text not parsing while it is typed.
 */
export function completionsAt(a: Analysis | null, absPath: string, text: string, offset: number): Completion[] {
  const cx = cursorContext(text, offset);
  const at = cx.wordStart;
  const item = (label: string, kind: CompletionKind, detail = '', doc = ''): Completion => ({ label, kind, detail, doc, replaceStart: at });
  if (cx.importPrefix !== null) {
    const mods = a?.host.stdlibModules() ?? [];
    return mods.map((m) => ({ label: `std/${m}`, kind: 'module', detail: `stdlib/${m}.rlp`, doc: '', replaceStart: cx.importPrefix!.start }));
  }
  if (cx.expectsDim) return (a?.dims ?? ['B', 'G', 'T', 'V']).map((d) => item(d, 'dim', 'dimension', DIM_DOCS[d] ?? ''));
  if (cx.expectsType) return TYPES.map((t) => item(t, 'type'));
  const place = cx.place;
  if (place.kind === 'top') return TOP_KEYWORDS.map((k) => item(k, 'keyword'));
  if (place.kind === 'pipeline') return BLOCKS.map((b) => item(b, 'block', 'block', BLOCK_DOCS[b] ?? ''));
  const module = a?.module(absPath);
  const callables = [...opItems(item), ...fnItems(module, item)];
  if (place.kind === 'fn') return [...place.params.map((p) => item(p, 'local', `parameter of ${place.fn}`)), ...callables, ...exprKeywords(cx, item)];
  if (place.block === 'params' || place.block === 'state') return [];
  const pd = findPipeline(module, place.pipeline);
  // A binding named like a standard input (`reward`) shadows it: the first of a label wins.
  const all = [...memberItems(a, pd, place.block, item), ...inputItems(place.block, item), ...callables, ...exprKeywords(cx, item, place.block)];
  const seen = new Set<string>();
  return all.filter((c) => !seen.has(c.label) && seen.add(c.label) !== undefined);
}

type Make = (label: string, kind: CompletionKind, detail?: string, doc?: string) => Completion;

function opItems(item: Make): Completion[] {
  const seen = new Set<string>();
  return OPS.filter((o) => o.dsl !== null && !seen.has(o.dsl) && seen.add(o.dsl) !== undefined).map((o) => item(o.dsl!, 'op', opSignature(o), o.summary));
}

function fnItems(module: Module | undefined, item: Make): Completion[] {
  if (module === undefined) return [];
  return [...module.scope.values()].flatMap((d) => (d.decl.kind === 'Fn' ? [item(d.decl.name.name, 'fn', fnSignature(d.decl), d.decl.doc)] : []));
}

function findPipeline(module: Module | undefined, name: string): { decl: PipelineDecl; module: Module } | null {
  const d = module?.scope.get(name);
  return d !== undefined && d.decl.kind === 'Pipeline' ? { decl: d.decl, module: d.module } : null;
}

function memberItems(a: Analysis | null, pd: { decl: PipelineDecl; module: Module } | null, block: string, item: Make): Completion[] {
  if (a === null || pd === null) return [];
  const flat = a.flat(pd.decl, pd.module);
  if (flat === null) return [];
  const types = a.types(pd.decl);
  const out: Completion[] = [];
  const order = [...STAGES, 'update'];
  for (const [n, b] of flat.bindings) {
    if (b.decl.value === b.value && b.decl.span === b.value.span) continue; // a sample-stage call, not a name
    if (order.indexOf(b.stage) > order.indexOf(block)) continue; // a later stage: not readable here
    const t = types?.get(n);
    out.push(item(n, 'binding', `${t === undefined ? '?' : formatTypeFull(t)}  (${b.stage})`, docOf(b.decl)));
  }
  for (const [n, p] of flat.params) out.push(item(n, 'param', declarationText(p.decl), docOf(p.decl)));
  for (const [n, s] of flat.state) out.push(item(n, 'state', declarationText(s.decl), docOf(s.decl)));
  return out;
}

function inputItems(block: string, item: Make): Completion[] {
  const inputs = STANDARD_INPUTS.map((i) => item(i.name, 'input', formatTypeFull(i.type), i.doc));
  const rewards = block === 'reward' ? BUILTIN_REWARDS.map((r) => item(r.name, 'reward', 'f32[B,G]', r.doc)) : [];
  return [...inputs, ...rewards];
}

function exprKeywords(cx: CursorContext, item: Make, block?: string): Completion[] {
  const words = ['true', 'false', 'and', 'or', 'not'];
  if (cx.call !== null) words.push('over', 'where');
  if (block === 'loss') words.push('minimize');
  return words.filter((w) => KEYWORDS.includes(w)).map((w) => item(w, 'keyword'));
}
