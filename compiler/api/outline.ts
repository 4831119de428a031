/** Document symbols (pipelines, blocks, bindings, functions, dims) and semantic tokens of a module. */
import type { Span } from '../../grammar/source.js';
import type { Module } from '../bind/modules.js';
import type { Analysis } from './analysis.js';
import type { RlpSymbol } from './symbols.js';

/** What an outline entry is. */
export type OutlineKind = 'pipeline' | 'block' | 'binding' | 'param' | 'state' | 'fn' | 'dim';

/** An outline entry: its whole span, its name's span, and its children. */
export interface OutlineEntry {
  readonly name: string;
  readonly kind: OutlineKind;
  readonly detail: string;
  readonly span: Span;
  readonly nameSpan: Span;
  readonly children: readonly OutlineEntry[];
}

/** The outline of a module that parsed (empty when it did not). */
export function outline(module: Module): OutlineEntry[] {
  const out: OutlineEntry[] = [];
  for (const item of module.ast?.items ?? []) {
    if (item.kind === 'Import') continue;
    if (item.kind === 'Dim') out.push({ name: item.name.name, kind: 'dim', detail: 'dim', span: item.span, nameSpan: item.name.span, children: [] });
    else if (item.kind === 'Fn') out.push({ name: item.name.name, kind: 'fn', detail: 'fn', span: item.span, nameSpan: item.name.span, children: [] });
    else {
      const blocks = item.blocks.map((b): OutlineEntry => {
        const kind: OutlineKind = b.name.name === 'params' ? 'param' : b.name.name === 'state' ? 'state' : 'binding';
        const children = b.members.flatMap((m): OutlineEntry[] => (m.kind === 'Binding' ? [{ name: m.name.name, kind, detail: b.name.name, span: m.span, nameSpan: m.name.span, children: [] }] : []));
        return { name: b.name.name, kind: 'block', detail: '', span: b.span, nameSpan: b.name.span, children };
      });
      const detail = item.parent === null ? 'pipeline' : `extends ${item.parent.name}`;
      out.push({ name: item.name.name, kind: 'pipeline', detail, span: item.span, nameSpan: item.name.span, children: blocks });
    }
  }
  return out;
}

/** The semantic token types rlp reports, in legend order. */
export const TOKEN_TYPES = ['namespace', 'type', 'typeParameter', 'parameter', 'variable', 'property', 'function', 'class', 'keyword'] as const;
/** The semantic token modifiers, in legend order (bit i of a token's modifier set). */
export const TOKEN_MODIFIERS = ['declaration', 'readonly', 'defaultLibrary'] as const;

/** One classified name. */
export interface SemanticToken {
  readonly span: Span;
  readonly type: (typeof TOKEN_TYPES)[number];
  readonly modifiers: readonly (typeof TOKEN_MODIFIERS)[number][];
}

function classify(s: RlpSymbol): Pick<SemanticToken, 'type' | 'modifiers'> {
  switch (s.kind) {
    case 'member':
      return { type: s.block === 'params' ? 'parameter' : s.block === 'state' ? 'property' : 'variable', modifiers: s.block === 'params' ? ['readonly'] : [] };
    case 'local':
      return { type: 'parameter', modifiers: [] };
    case 'input':
    case 'reward':
      return { type: 'variable', modifiers: ['readonly', 'defaultLibrary'] };
    case 'op':
      return { type: 'function', modifiers: ['defaultLibrary'] };
    case 'op-arg':
      return { type: 'parameter', modifiers: ['defaultLibrary'] };
    case 'fn':
      return { type: 'function', modifiers: [] };
    case 'pipeline':
      return { type: 'class', modifiers: [] };
    case 'dim':
      return { type: 'typeParameter', modifiers: s.decl === null ? ['defaultLibrary'] : [] };
    case 'module':
      return { type: 'namespace', modifiers: [] };
    case 'block':
      return { type: 'keyword', modifiers: [] };
    case 'type':
      return { type: 'type', modifiers: ['defaultLibrary'] };
  }
}

/** Every resolved name of a module, classified, in source order (import strings excluded). */
export function semanticTokens(a: Analysis, module: Module): SemanticToken[] {
  return a
    .occurrences(module)
    .filter((o) => o.symbol.kind !== 'module')
    .map((o) => {
      const c = classify(o.symbol);
      return { span: o.span, type: c.type, modifiers: o.isDecl ? ['declaration', ...c.modifiers] : c.modifiers };
    });
}
