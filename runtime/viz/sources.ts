/** The source text of a compiled pipeline's bindings, for drawing: each `stage.name`'s expression and span. */
import type { Program } from '../../compiler/bind/modules.js';
import { Flattener } from '../../compiler/check/flatten.js';
import type { CompiledPipeline } from '../../compiler/compile.js';
import { spanText, type Span } from '../../grammar/source.js';

/** Where one output of the pipeline was written: its stage, the whole statement and its expression. */
export interface BindingSource {
  readonly stage: string;
  /** The statement (`A = ...`, `minimize ...`). */
  readonly span: Span;
  /** The expression's text, whitespace collapsed. */
  readonly expr: string;
}

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** The sources of every output of `p` (`stage.name`, `loss`, `update.name`), by output name. */
export function bindingSources(program: Program, p: CompiledPipeline): Map<string, BindingSource> {
  const out = new Map<string, BindingSource>();
  const module = [...program.modules.values()].find((m) => m.file.path === p.file) ?? program.roots.find((m) => m.file.path === p.file);
  const decl = module?.ast?.items.find((i) => i.kind === 'Pipeline' && i.name.name === p.name);
  if (module === undefined || decl === undefined || decl.kind !== 'Pipeline') return out;
  const flat = new Flattener([]).flatten(decl, module);
  if (flat === null) return out;
  for (const [name, b] of flat.bindings) out.set(`${b.stage}.${name}`, { stage: b.stage, span: b.decl.span, expr: collapse(spanText(b.value.span)) });
  if (flat.minimize !== null) {
    const m = flat.minimize.node;
    out.set('loss', { stage: 'loss', span: m.span, expr: collapse(spanText(m.value.span)) });
  }
  for (const [name, u] of flat.updates) {
    if (u.decl.value !== null) out.set(`update.${name}`, { stage: 'update', span: u.decl.span, expr: collapse(spanText(u.decl.value.span)) });
  }
  return out;
}
