/** Hover: what the name under the cursor is, its type and level, and its doc. */
import type { Span } from '../../grammar/source.js';
import { formatTypeFull } from '../types.js';
import { occurrenceAt, type Analysis } from './analysis.js';
import { BLOCK_DOCS, levelPhrase, declarationText, DIM_DOCS, docOf, fnSignature, opSignature, opsNamed, pipelineHeader } from './describe.js';
import type { MemberSymbol, RlpSymbol } from './symbols.js';

/** A hover: Markdown text (a fenced `rlp` code line, then prose) and the span it is about. */
export interface Hover {
  readonly markdown: string;
  readonly span: Span;
}

const code = (s: string): string => '```rlp\n' + s + '\n```';
const join = (...parts: (string | null | undefined)[]): string => parts.filter((p): p is string => p !== null && p !== undefined && p !== '').join('\n\n');

/** The hover for the name at `offset`, or null over whitespace, literals and operators. */
export function hoverAt(a: Analysis, absPath: string, offset: number): Hover | null {
  const o = occurrenceAt(a, absPath, offset);
  if (o === null) return null;
  const markdown = describeSymbol(a, o.symbol);
  return markdown === null ? null : { markdown, span: o.span };
}

/** Markdown describing a symbol (also used for completion details). */
export function describeSymbol(a: Analysis, s: RlpSymbol): string | null {
  switch (s.kind) {
    case 'member':
      return describeMember(a, s);
    case 'local':
      return join(code(s.typeText === null ? s.name : `${s.name}: ${s.typeText}`), `a parameter or local of \`${s.fn.name.name}\``);
    case 'input':
      return join(code(`${s.input.name}: ${formatTypeFull(s.input.type)}`), `standard input, ${levelPhrase(s.input.type)}`, s.input.doc);
    case 'reward':
      return join(code(`${s.name}: f32[B,G]`), `built-in reward function: ${s.doc}`);
    case 'op':
      return join(...opsNamed(s.name).map((op) => join(code(opSignature(op)), op.summary)));
    case 'op-arg': {
      const op = opsNamed(s.op)[0];
      return op === undefined ? null : join(code(opSignature(op)), `argument \`${s.name}\` of \`${s.op}\``);
    }
    case 'fn':
      return join(code(fnSignature(s.decl)), s.decl.doc, `declared in \`${s.module.file.path}\``);
    case 'pipeline':
      return join(code(pipelineHeader(s.decl)), s.decl.doc, `declared in \`${s.module.file.path}\``);
    case 'dim':
      return join(code(`dim ${s.name}`), s.decl === null ? `standard dimension: ${DIM_DOCS[s.name] ?? ''}` : s.decl.doc);
    case 'module':
      return s.module === null ? `no file \`${s.path}\`` : `the file \`${s.module.file.path}\``;
    case 'block':
      return BLOCK_DOCS[s.name] === undefined ? null : join(code(s.name), BLOCK_DOCS[s.name]);
    case 'type':
      return null;
  }
}

function describeMember(a: Analysis, s: MemberSymbol): string {
  const where = s.owner === s.pipeline ? `in \`${s.pipeline.name.name}\`` : `in \`${s.pipeline.name.name}\` (declared by \`${s.owner.name.name}\`)`;
  if (s.block === 'params') return join(code(declarationText(s.decl)), `param ${where}`, docOf(s.decl));
  const t = a.types(s.pipeline)?.get(s.name);
  const typeLine = t === undefined ? `${s.name}: ?` : `${s.name}: ${formatTypeFull(t)}`;
  const level = t === undefined ? 'type unknown: the binding does not check' : levelPhrase(t);
  const what = s.block === 'state' ? `state variable ${where}, ${level}` : `binding of stage \`${s.block}\` ${where}, ${level}`;
  return join(code(typeLine), what, docOf(s.decl));
}
