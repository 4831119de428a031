/**
 * Choice params: `agg: choice("token-mean", "token-sum") = "token-mean" "doc"`. A choice is made at
 * compile time (the default, or `--set NAME=VALUE`); a choice param elaborates to a string constant,
 * and `==`/`!=` between string constants fold to a bool constant, so a `select` on it keeps only
 * the chosen branch once the constants are folded (no runtime branching).
 */
import type { Binding } from '../../grammar/ast.js';
import type { Span } from '../../grammar/source.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { IrNode } from '../ir/graph.js';
import { closest } from '../suggest.js';
import { constEval } from './resolve-type.js';

/** A checked choice param: its strings, its default, and the value this compilation uses. */
export interface CheckedChoice {
  readonly choices: readonly string[];
  readonly dflt: string;
  readonly chosen: string;
}

/** `"a", "b" or "c"`. */
export function quoteChoices(choices: readonly string[]): string {
  const q = choices.map((c) => JSON.stringify(c));
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

/** `did you mean "token-sum"?`, or null. */
export function didYouMeanChoice(value: string, choices: readonly string[]): string | null {
  const c = closest(value, choices);
  return c === null ? null : `did you mean ${JSON.stringify(c)}?`;
}

function notAChoice(what: string, name: string, value: string, choices: readonly string[], at: Span, extra: { labels?: { span: Span; message: string }[]; notes?: string[] } = {}): Diagnostic {
  return diag('RLP3041', at, { what, name, choices: quoteChoices(choices) }, { ...extra, help: didYouMeanChoice(value, choices) });
}

/** Check a choice param's declaration and pick its value (`set` is its `--set` value, if any). */
export function checkChoiceParam(name: string, decl: Binding, set: string | undefined, out: Diagnostic[]): CheckedChoice | null {
  const list = decl.type!.choices ?? [];
  if (list.length === 0) {
    out.push(diag('RLP3040', decl.type!.span, { name, what: 'lists no strings' }, { help: 'list the strings it may take: `choice("a", "b")`' }));
    return null;
  }
  const choices: string[] = [];
  for (const c of list) {
    if (choices.includes(c.value)) {
      out.push(diag('RLP3040', c.span, { name, what: `lists ${JSON.stringify(c.value)} twice` }));
      return null;
    }
    choices.push(c.value);
  }
  if (decl.value === null) {
    out.push(diag('RLP3040', decl.name.span, { name, what: 'has no default' }, { help: `add one of its strings, e.g. \`= ${JSON.stringify(choices[0])}\`` }));
    return null;
  }
  const c = constEval(decl.value);
  if (c === null || typeof c.value !== 'string') {
    out.push(diag('RLP3040', decl.value.span, { name, what: 'needs a string default' }, { help: `one of ${quoteChoices(choices)}` }));
    return null;
  }
  if (!choices.includes(c.value)) {
    out.push(notAChoice(`the default ${JSON.stringify(c.value)}`, name, c.value, choices, decl.value.span));
    return null;
  }
  if (set !== undefined && !choices.includes(set)) {
    out.push(notAChoice(`\`--set ${name}=${set}\``, name, set, choices, decl.name.span, { labels: [{ span: decl.type!.span, message: 'the choices are declared here' }] }));
    return null;
  }
  return { choices, dflt: c.value, chosen: set ?? c.value };
}

/**
 * `a == b` or `a != b` between strings: both must be compile-time constants (literals or choice
 * params); a literal compared with a choice param must be one of its choices. Returns the folded
 * truth value, or null after reporting.
 */
export function compareStrings(op: '==' | '!=', left: IrNode, right: IrNode, spans: readonly [Span, Span], at: Span, out: Diagnostic[]): boolean | null {
  const sides = [left, right];
  const i = sides.findIndex((n) => n.op !== 'const');
  if (i >= 0) {
    out.push(diag('RLP3042', spans[i]!, { what: 'strings compare only when both sides are known at compile time' }, {
      help: 'declare the param as a choice: `name: choice("a", "b") = "a"`',
    }));
    return null;
  }
  for (const [k, n] of sides.entries()) {
    const other = sides[1 - k]!;
    const name = n.attrs['choice'];
    if (typeof name !== 'string' || typeof other.attrs['choice'] === 'string') continue;
    const choices = n.attrs['choices'] as readonly string[];
    const value = String(other.attrs['value']);
    if (!choices.includes(value)) {
      out.push(notAChoice(JSON.stringify(value), name, value, choices, spans[1 - k]!, { notes: ['the comparison could never be true'] }));
      return null;
    }
  }
  const same = left.attrs['value'] === right.attrs['value'];
  return op === '==' ? same : !same;
}
