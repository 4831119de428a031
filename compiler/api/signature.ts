/** Signature help: the signature of the call the cursor is inside, and the argument it is at. */
import type { Analysis } from './analysis.js';
import { cursorContext } from './context.js';
import { fnParams, opParams, opsNamed } from './describe.js';

/** One signature: its label, the labels of its parameters (substrings of it), and docs. */
export interface Signature {
  readonly label: string;
  readonly params: readonly string[];
  readonly doc: string;
}

/** The signatures of the call at the cursor and which parameter is active; null outside calls. */
export interface SignatureHelp {
  readonly signatures: readonly Signature[];
  readonly activeSignature: number;
  readonly activeParameter: number;
}

/** Signature help at `offset` of `text`; functions are found in the analysis of `absPath`. */
export function signatureAt(a: Analysis | null, absPath: string, text: string, offset: number): SignatureHelp | null {
  const call = cursorContext(text, offset).call;
  if (call === null) return null;
  const sigs: Signature[] = opsNamed(call.callee).map((op) => ({ label: `${call.callee}(${opParams(op).join(', ')})`, params: opParams(op), doc: op.summary }));
  const fn = a?.module(absPath)?.scope.get(call.callee);
  if (sigs.length === 0 && fn !== undefined && fn.decl.kind === 'Fn') {
    const ps = fnParams(fn.decl);
    sigs.push({ label: `${call.callee}(${ps.join(', ')})`, params: ps, doc: fn.decl.doc });
  }
  if (sigs.length === 0) return null;
  // An elementwise op and a reduction may share a name: `over` picks the reduction.
  const active = Math.max(0, call.keyword === 'over' || call.keyword === 'where' ? sigs.findIndex((s) => s.params.some((p) => p.startsWith(call.keyword!))) : 0);
  const params = sigs[active]!.params;
  const byKeyword = call.keyword === null ? -1 : params.findIndex((p) => p === call.keyword || p.startsWith(call.keyword + ' ') || p.startsWith(call.keyword + ':'));
  return { signatures: sigs, activeSignature: active, activeParameter: byKeyword >= 0 ? byKeyword : Math.min(call.argIndex, Math.max(0, params.length - 1)) };
}
