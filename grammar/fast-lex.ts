/**
 * The lexer of the fast parser (grammar/fast-parse.ts): the tokens of grammar/tokens.ts as kinds
 * and offsets, and delimiters.ts's limits on them. Either gives up (null, false) wherever the
 * Chevrotain lexer or `checkDelimiters` would report a problem, which that path then reports.
 */
import { MAX_CHAIN, MAX_LIST, MAX_NESTING } from './delimiters.js';

/** Token kinds: the grammar's terminals (comments and white space are not tokens), 0 the end of input. */
export const ID = 1, NUM = 2, STR = 3;
export const IMPORT = 4, PIPELINE = 5, EXTENDS = 6, FN = 7, DIM = 8, MINIMIZE = 9, OVER = 10, WHERE = 11;
export const TRUE = 12, FALSE = 13, AND = 14, OR = 15, NOT = 16, IN = 17;
export const LBRACE = 20, RBRACE = 21, LPAREN = 22, RPAREN = 23, LBRACKET = 24, RBRACKET = 25;
export const COMMA = 26, SEMI = 27, COLON = 28;
export const EQEQ = 29, NOTEQ = 30, LESSEQ = 31, GREATEREQ = 32, LESS = 33, GREATER = 34, ASSIGN = 35;
export const POWER = 36, PLUS = 37, MINUS = 38, STAR = 39, SLASH = 40;
export const EOF = 0;

/** The reserved words and their kinds. */
const KEYWORDS: ReadonlyMap<string, number> = new Map([
  ['import', IMPORT], ['pipeline', PIPELINE], ['extends', EXTENDS], ['fn', FN], ['dim', DIM], ['minimize', MINIMIZE],
  ['over', OVER], ['where', WHERE], ['true', TRUE], ['false', FALSE], ['and', AND], ['or', OR], ['not', NOT], ['in', IN],
]);

/** Tokens of one file: kinds, [start, end) offsets, and the `///` doc comments on the side. */
export interface Tokens {
  readonly kinds: number[];
  readonly starts: number[];
  readonly ends: number[];
  readonly docs: { readonly startOffset: number; readonly image: string }[];
}

// Character classes by char code, looked up in a table (this code runs cold: calls and range tests per character cost).
const DIGIT = 1, ID_START = 2, SPACE = 4;
const CHAR_CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CHAR_CLASS[c] = DIGIT;
for (let c = 65; c <= 90; c++) CHAR_CLASS[c] = ID_START;
for (let c = 97; c <= 122; c++) CHAR_CLASS[c] = ID_START;
CHAR_CLASS[95] = ID_START;
for (const c of [32, 9, 10, 11, 12, 13]) CHAR_CLASS[c] = SPACE; // [ \t\n\v\f\r]
/** The class bits of a char code (0 past ASCII and past the end of the text, where charCodeAt is NaN). */
const classOf = (c: number): number => CHAR_CLASS[c] ?? 0;

/** Split `text` into tokens as grammar/tokens.ts does (first pattern wins), or null at anything that is a lexical problem there. */
export function tokenize(text: string): Tokens | null {
  const kinds: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const docs: { startOffset: number; image: string }[] = [];
  const n = text.length;
  const push = (k: number, s: number, e: number): void => {
    kinds.push(k);
    starts.push(s);
    ends.push(e);
  };
  // The next `\r` at or after a comment: searched again only once passed (most files have none).
  // (-2: not searched yet; -1: none.)
  let cr = -2;
  const lineEnd = (from: number): number => {
    if (cr === -2 || (cr >= 0 && cr < from)) cr = text.indexOf('\r', from);
    const lf = text.indexOf('\n', from);
    const end = lf < 0 ? n : lf;
    return cr >= 0 && cr < end ? cr : end;
  };
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const s = i;
    const cls = classOf(c);
    if (cls === SPACE) {
      i++;
      while (classOf(text.charCodeAt(i)) === SPACE) i++;
      continue;
    }
    if (c === 47 /* / */ || c === 35 /* # */) {
      const c1 = text.charCodeAt(i + 1);
      if (c === 35 || c1 === 47) {
        // `///` doc comment, `//` or `#` line comment: to the end of the line.
        const doc = c === 47 && text.charCodeAt(i + 2) === 47;
        i = lineEnd(i);
        if (doc) docs.push({ startOffset: s, image: text.slice(s, i) });
        continue;
      }
      if (c1 === 42 /* * */) {
        const close = text.indexOf('*/', i + 2);
        if (close < 0) return null; // an unterminated comment
        i = close + 2;
        continue;
      }
      push(SLASH, s, ++i);
      continue;
    }
    if (cls === DIGIT || (c === 46 /* . */ && classOf(text.charCodeAt(i + 1)) === DIGIT)) {
      // (?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)? — and a dangling exponent is a malformed number.
      if (c !== 46) while (classOf(text.charCodeAt(i)) === DIGIT) i++;
      if (text.charCodeAt(i) === 46) i++;
      while (classOf(text.charCodeAt(i)) === DIGIT) i++;
      const e = text.charCodeAt(i);
      if (e === 101 || e === 69) {
        let j = i + 1;
        const sign = text.charCodeAt(j);
        if (sign === 43 || sign === 45) j++;
        if (classOf(text.charCodeAt(j)) !== DIGIT) return null; // a malformed number (`1e`)
        while (classOf(text.charCodeAt(j)) === DIGIT) j++;
        i = j;
      }
      push(NUM, s, i);
      continue;
    }
    if (cls === ID_START) {
      i++;
      while ((classOf(text.charCodeAt(i)) & (ID_START | DIGIT)) !== 0) i++;
      push(KEYWORDS.get(text.slice(s, i)) ?? ID, s, i);
      continue;
    }
    if (c === 34 /* " */) {
      i++;
      for (;;) {
        if (i >= n) return null;
        const d = text.charCodeAt(i);
        if (d === 34) break;
        if (d === 10 || d === 13) return null;
        if (d === 92 /* \ */) {
          const e = text.charCodeAt(i + 1);
          if (i + 1 >= n || e === 10 || e === 13) return null;
          i += 2;
        } else i++;
      }
      push(STR, s, ++i);
      continue;
    }
    const c1 = text.charCodeAt(i + 1);
    let k: number;
    let len = 1;
    switch (c) {
      case 123: k = LBRACE; break;
      case 125: k = RBRACE; break;
      case 40: k = LPAREN; break;
      case 41: k = RPAREN; break;
      case 91: k = LBRACKET; break;
      case 93: k = RBRACKET; break;
      case 44: k = COMMA; break;
      case 59: k = SEMI; break;
      case 58: k = COLON; break;
      case 43: k = PLUS; break;
      case 45: k = MINUS; break;
      case 61: [k, len] = c1 === 61 ? [EQEQ, 2] : [ASSIGN, 1]; break;
      case 33: if (c1 !== 61) return null; [k, len] = [NOTEQ, 2]; break;
      case 60: [k, len] = c1 === 61 ? [LESSEQ, 2] : [LESS, 1]; break;
      case 62: [k, len] = c1 === 61 ? [GREATEREQ, 2] : [GREATER, 1]; break;
      case 42: [k, len] = c1 === 42 ? [POWER, 2] : [STAR, 1]; break;
      // `.` alone (a token the grammar never takes), and any other character (a lexical problem).
      default: return null;
    }
    i += len;
    push(k, s, i);
  }
  return { kinds, starts, ends, docs };
}

// Kinds by role in delimiters.ts's checks, as bits in a table indexed by kind.
const OPERATOR = 1, CHAIN_BREAK = 2, PREFIX = 4, OPEN = 8, CLOSE = 16;
const ROLE = new Uint8Array(64);
for (const k of [PLUS, MINUS, STAR, SLASH, POWER, LESS, LESSEQ, GREATER, GREATEREQ, EQEQ, NOTEQ, AND, OR, NOT]) ROLE[k]! |= OPERATOR;
for (const k of [LBRACE, RBRACE, SEMI, ASSIGN, COLON, MINIMIZE]) ROLE[k]! |= CHAIN_BREAK;
for (const k of [MINUS, PLUS, NOT, POWER]) ROLE[k]! |= PREFIX;
for (const k of [LBRACE, LPAREN, LBRACKET]) ROLE[k]! |= OPEN;
for (const k of [RBRACE, RPAREN, RBRACKET]) ROLE[k]! |= CLOSE;
const CLOSE_OF: Readonly<Record<number, number>> = { [LBRACE]: RBRACE, [LPAREN]: RPAREN, [LBRACKET]: RBRACKET };

/** delimiters.ts's checks on token kinds: false wherever `checkDelimiters` reports a problem. */
export function withinLimits(kinds: readonly number[]): boolean {
  const stack: number[] = [];
  const rangeOpen: boolean[] = [];
  const chains = [0];
  const commas = [0];
  let prefixRun = 0;
  let prev = EOF;
  for (const k of kinds) {
    const after = prev;
    prev = k;
    const role = ROLE[k]!;
    if ((role & OPERATOR) !== 0) {
      const c = chains[chains.length - 1]! + 1;
      chains[chains.length - 1] = c;
      if (c > MAX_CHAIN) return false;
    } else if ((role & CHAIN_BREAK) !== 0) chains[chains.length - 1] = 0;
    if (k === COMMA) {
      const c = commas[commas.length - 1]! + 1;
      commas[commas.length - 1] = c;
      if (c >= MAX_LIST) return false;
    }
    if ((role & OPEN) !== 0) commas.push(0);
    else if ((role & CLOSE) !== 0 && commas.length > 1) commas.pop();
    if (k === LPAREN || k === LBRACKET) chains.push(0);
    else if ((k === RPAREN || k === RBRACKET) && chains.length > 1) chains.pop();
    prefixRun = (role & PREFIX) !== 0 ? prefixRun + 1 : 0;
    if ((role & OPEN) !== 0) {
      stack.push(k);
      rangeOpen.push(after === IN && k !== LBRACE);
      if (stack.length + prefixRun > MAX_NESTING) return false;
    } else if ((role & CLOSE) !== 0) {
      const open = stack.pop();
      const range = rangeOpen.pop();
      if (open === undefined) return false;
      if (CLOSE_OF[open] !== k && !(range === true && k !== RBRACE)) return false;
    } else if (stack.length + prefixRun > MAX_NESTING) return false;
  }
  return stack.length === 0;
}
