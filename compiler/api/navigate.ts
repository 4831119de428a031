/** Go to definition, find references and rename, over every module of an analysis. */
import { spanText, type Span } from '../../grammar/source.js';
import { occurrenceAt, type Analysis } from './analysis.js';
import { declarationSpan, isRenamable, symbolKey, type Occurrence } from './symbols.js';

/** A span together with the absolute path of its file. */
export interface Location {
  readonly path: string;
  readonly span: Span;
}

/** One text replacement. */
export interface TextEdit {
  readonly path: string;
  readonly span: Span;
  readonly newText: string;
}

function located(a: Analysis, span: Span): Location | null {
  const m = a.moduleOfFile(span.file);
  return m === undefined ? null : { path: m.path, span };
}

/** Where the name at `offset` is declared (a binding overridden in a child: the child's). */
export function definitionAt(a: Analysis, absPath: string, offset: number): Location | null {
  const o = occurrenceAt(a, absPath, offset);
  if (o === null) return null;
  const s = declarationSpan(o.symbol);
  return s === null ? null : located(a, s);
}

/** Every occurrence of the symbol at `offset` in the analysed modules, declarations included. */
export function referencesAt(a: Analysis, absPath: string, offset: number, includeDeclaration = true): Location[] {
  return occurrencesOfSymbolAt(a, absPath, offset)
    .filter((o) => includeDeclaration || !o.isDecl)
    .flatMap((o) => {
      const l = located(a, o.span);
      return l === null ? [] : [l];
    });
}

function occurrencesOfSymbolAt(a: Analysis, absPath: string, offset: number): Occurrence[] {
  const at = occurrenceAt(a, absPath, offset);
  if (at === null) return [];
  const key = symbolKey(at.symbol);
  const out: Occurrence[] = [];
  const seen = new Set<string>();
  for (const m of a.program.modules.values()) {
    for (const o of a.occurrences(m)) {
      if (symbolKey(o.symbol) !== key) continue;
      const k = `${m.path}:${o.span.start}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(o);
    }
  }
  return out;
}

/** The span of the renamable name at `offset`, or null when it is a built-in or nothing. */
export function renameRangeAt(a: Analysis, absPath: string, offset: number): Span | null {
  const o = occurrenceAt(a, absPath, offset);
  return o !== null && isRenamable(o.symbol) ? o.span : null;
}

/** Why a new name is refused, or null when it is a valid identifier. */
export function checkNewName(name: string): string | null {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? null : `\`${name}\` is not a name: use letters, digits and _, not starting with a digit`;
}

/**
 * The edits that rename the symbol at `offset` everywhere: its declaration, every use, and its
 * overrides and uses in `extends` children that the analysis loaded. Null when not renamable.
 */
export function renameAt(a: Analysis, absPath: string, offset: number, newName: string): TextEdit[] | null {
  if (renameRangeAt(a, absPath, offset) === null) return null;
  return occurrencesOfSymbolAt(a, absPath, offset).flatMap((o) => {
    const l = located(a, o.span);
    return l === null || spanText(o.span) === newName ? [] : [{ path: l.path, span: o.span, newText: newName }];
  });
}
