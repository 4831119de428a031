/** Matching call arguments to parameters: positional, keyword, defaults, with precise errors. */
import type { Arg, CallExpr, Expr } from '../../grammar/ast.js';
import type { Span } from '../../grammar/source.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean, listChoices } from '../suggest.js';

/** A parameter as argument matching sees it. */
export interface ParamSpec {
  readonly name: string;
  readonly optional: boolean;
}

/** An argument matched to a parameter. */
export interface Matched {
  readonly value: Expr;
  readonly span: Span;
}

/** Match the positional and keyword arguments of a call; null after reporting a problem. */
export function matchArgs(call: CallExpr, params: readonly ParamSpec[], out: Diagnostic[]): (Matched | null)[] | null {
  const callee = call.callee.name;
  const result: (Matched | null)[] = params.map(() => null);
  const plain = call.args.filter((a): a is Extract<Arg, { kind: 'Positional' | 'Keyword' }> => a.kind === 'Positional' || a.kind === 'Keyword');
  let pos = 0;
  let ok = true;
  for (const a of plain) {
    if (a.kind === 'Positional') {
      if (pos >= params.length) {
        const want = `${params.length} argument${params.length === 1 ? '' : 's'}`;
        const found = plain.filter((x) => x.kind === 'Positional').length;
        out.push(diag('RLP3009', a.span, { callee, want, found }, { help: params.length > 0 ? `parameters: ${listChoices(params.map((p) => p.name))}` : null }));
        return null;
      }
      result[pos] = { value: a.value, span: a.span };
      pos++;
      continue;
    }
    const i = params.findIndex((p) => p.name === a.name.name);
    if (i < 0) {
      const names = params.map((p) => p.name);
      out.push(diag('RLP3010', a.name.span, { callee, name: a.name.name }, { help: didYouMean(a.name.name, names) ?? (names.length > 0 ? `parameters: ${listChoices(names)}` : `\`${callee}\` takes no keyword arguments`) }));
      ok = false;
      continue;
    }
    if (result[i] !== null) {
      out.push(diag('RLP3012', a.name.span, { callee, name: a.name.name }));
      ok = false;
      continue;
    }
    result[i] = { value: a.value, span: a.span };
  }
  if (!ok) return null;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    if (result[i] === null && !p.optional) {
      out.push(diag('RLP3011', call.span, { callee, name: p.name }));
      return null;
    }
  }
  return result;
}
