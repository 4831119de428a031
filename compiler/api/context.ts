/**
 * Where the cursor is, read from tokens rather than the AST, so that it works while the text
 * does not parse (the usual state of a file being typed): inside which pipeline, block or
 * function, after `over`, inside an import string, inside which call.
 */
import type { IToken } from 'chevrotain';
import { lex } from '../../grammar/lexer.js';
import { makeSource } from '../../grammar/source.js';

/** The syntactic place of a cursor. */
export type CursorPlace =
  | { readonly kind: 'top' }
  | { readonly kind: 'pipeline'; readonly pipeline: string }
  | { readonly kind: 'block'; readonly pipeline: string; readonly block: string }
  | { readonly kind: 'fn'; readonly fn: string; readonly params: readonly string[] };

/** The cursor's context: its place, the word being typed, and what it follows. */
export interface CursorContext {
  readonly place: CursorPlace;
  /** Offset where the identifier being typed starts (the cursor when none). */
  readonly wordStart: number;
  /** Inside `import "...`: the text typed so far after the quote, and where it starts. */
  readonly importPrefix: { readonly text: string; readonly start: number } | null;
  /** After `over`, `over [...,`, inside a type's `[...]` or an index `x[`: a dimension goes here. */
  readonly expectsDim: boolean;
  /** After `name:` in a params or state block, or in a function's parameter list: a type goes here. */
  readonly expectsType: boolean;
  /** The innermost call the cursor is inside, with the argument it is at. */
  readonly call: CallContext | null;
}

/** A call being written: callee, argument index and the keyword typed for it (if any). */
export interface CallContext {
  readonly callee: string;
  readonly argIndex: number;
  readonly keyword: string | null;
}

const name = (t: IToken | undefined): string => t?.tokenType.name ?? '';

/** Read the context of the cursor at `offset` in `text`. */
export function cursorContext(text: string, offset: number): CursorContext {
  const before = text.slice(0, offset);
  const imp = /import\s+"([^"\n]*)$/.exec(before);
  const word = /[A-Za-z_][A-Za-z0-9_]*$/.exec(before);
  const wordStart = word === null ? offset : offset - word[0].length;
  const toks = lex(makeSource('cursor', before.slice(0, wordStart))).tokens;
  return {
    place: placeOf(toks),
    wordStart,
    importPrefix: imp === null ? null : { text: imp[1]!, start: offset - imp[1]!.length },
    expectsDim: expectsDim(toks),
    expectsType: name(toks[toks.length - 1]) === 'Colon',
    call: callOf(toks),
  };
}

function placeOf(toks: readonly IToken[]): CursorPlace {
  const stack: CursorPlace[] = [{ kind: 'top' }];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const top = stack[stack.length - 1]!;
    if (t.tokenType.name === 'RBrace') {
      if (stack.length > 1) stack.pop();
    } else if (t.tokenType.name === 'LBrace') {
      stack.push(opened(toks, i, top));
    }
  }
  return stack[stack.length - 1]!;
}

/** What the `{` at toks[i] opens, given the place it is in. */
function opened(toks: readonly IToken[], i: number, top: CursorPlace): CursorPlace {
  if (top.kind === 'pipeline') return { kind: 'block', pipeline: top.pipeline, block: toks[i - 1]?.image ?? '' };
  if (top.kind !== 'top') return top;
  let j = i - 1;
  while (j >= 0 && name(toks[j]) !== 'Pipeline' && name(toks[j]) !== 'Fn' && name(toks[j]) !== 'RBrace') j--;
  if (name(toks[j]) === 'Pipeline') return { kind: 'pipeline', pipeline: toks[j + 1]?.image ?? '' };
  if (name(toks[j]) === 'Fn') return { kind: 'fn', fn: toks[j + 1]?.image ?? '', params: fnParamNames(toks, j) };
  return top;
}

function fnParamNames(toks: readonly IToken[], fnAt: number): string[] {
  const out: string[] = [];
  let depth = 0;
  for (let k = fnAt + 2; k < toks.length; k++) {
    const n = name(toks[k]);
    if (n === 'LParen' || n === 'LBracket') depth++;
    else if (n === 'RParen' || n === 'RBracket') {
      depth--;
      if (depth === 0) break;
    } else if (n === 'Identifier' && depth === 1 && (name(toks[k - 1]) === 'LParen' || name(toks[k - 1]) === 'Comma')) out.push(toks[k]!.image);
  }
  return out;
}

function expectsDim(toks: readonly IToken[]): boolean {
  let k = toks.length - 1;
  if (name(toks[k]) === 'Over') return true;
  // `over [A, `, `f32[A, `, `x[`: walk back over `Ident ,` pairs to the bracket.
  while (k >= 0 && (name(toks[k]) === 'Comma' || name(toks[k]) === 'Identifier')) k--;
  if (name(toks[k]) !== 'LBracket') return false;
  const prev = name(toks[k - 1]);
  return prev === 'Over' || prev === 'Identifier' || prev === 'RParen';
}

function callOf(toks: readonly IToken[]): CallContext | null {
  let depth = 0;
  let args = 0;
  let keyword: string | null = null;
  for (let k = toks.length - 1; k >= 0; k--) {
    const n = name(toks[k]);
    if (n === 'RParen' || n === 'RBracket' || n === 'RBrace') depth++;
    else if (n === 'LBracket' || n === 'LBrace') {
      if (depth === 0) return n === 'LBrace' ? null : callOf(toks.slice(0, k));
      depth--;
    } else if (n === 'LParen') {
      if (depth > 0) {
        depth--;
        continue;
      }
      const callee = toks[k - 1];
      if (name(callee) !== 'Identifier') return null;
      return { callee: callee!.image, argIndex: args, keyword };
    } else if (depth === 0 && n === 'Comma') {
      args++;
    } else if (depth === 0 && args === 0 && keyword === null) {
      if ((n === 'Over' || n === 'Where') ) keyword = toks[k]!.image;
      else if (n === 'Assign' && name(toks[k - 1]) === 'Identifier') keyword = toks[k - 1]!.image;
    }
  }
  return null;
}
