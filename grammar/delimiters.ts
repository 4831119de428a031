/** A pre-pass over tokens: unbalanced brackets and nesting depth, reported precisely before parsing. */
import type { IToken } from 'chevrotain';
import type { SyntaxProblem } from './problem.js';
import { span, type SourceFile } from './source.js';

/** The deepest nesting of brackets and prefix operators the parser accepts. */
export const MAX_NESTING = 100;

/** The most operators one expression may chain (`a + b + ...`); later phases recurse along a chain. */
export const MAX_CHAIN = 1000;

/** The most items one bracket may list (call arguments, dims of `over [...]`): commas are counted before parsing. */
export const MAX_LIST = 1000;

const OPERATORS = new Set(['+', '-', '*', '/', '**', '<', '<=', '>', '>=', '==', '!=', 'and', 'or', 'not']);
/** Tokens that end an expression's chain of operators (a new statement or block). */
const CHAIN_BREAK = new Set(['{', '}', ';', '=', ':', 'minimize']);

const OPEN: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };
const CLOSE = new Set([')', ']', '}']);
const PREFIX = new Set(['-', '+', 'not', '**']);

/** Check bracket balance and nesting; returns problems (empty when the parser can run safely). */
export function checkDelimiters(file: SourceFile, tokens: readonly IToken[]): SyntaxProblem[] {
  const stack: IToken[] = [];
  // Brackets opened right after `in` (a param's range) may close with `]` or `)`: `in [0, 1)`.
  const ranges = new Set<IToken>();
  let prev: IToken | undefined;
  let prefixRun = 0;
  // Operators chained at each bracket depth since the last statement boundary.
  const chains: number[] = [0];
  // Commas at each bracket depth.
  const commas: number[] = [0];
  for (const t of tokens) {
    const after = prev;
    prev = t;
    const img = t.image;
    if (OPERATORS.has(img)) {
      const n = (chains[chains.length - 1] ?? 0) + 1;
      chains[chains.length - 1] = n;
      if (n > MAX_CHAIN) return [{ code: 'RLP1008', span: span(file, t.startOffset, t.startOffset + img.length), args: { limit: MAX_CHAIN } }];
    } else if (CHAIN_BREAK.has(img)) chains[chains.length - 1] = 0;
    if (img === ',') {
      const n = (commas[commas.length - 1] ?? 0) + 1;
      commas[commas.length - 1] = n;
      if (n >= MAX_LIST) return [{ code: 'RLP1009', span: span(file, t.startOffset, t.startOffset + 1), args: { limit: MAX_LIST } }];
    }
    if (OPEN[img] !== undefined) commas.push(0);
    else if (CLOSE.has(img) && commas.length > 1) commas.pop();
    if (img === '(' || img === '[') chains.push(0);
    else if ((img === ')' || img === ']') && chains.length > 1) chains.pop();
    const s = t.image;
    const at = span(file, t.startOffset, t.startOffset + s.length);
    prefixRun = PREFIX.has(s) ? prefixRun + 1 : 0;
    if (OPEN[s] !== undefined) {
      stack.push(t);
      if (after?.image === 'in' && s !== '{') ranges.add(t);
      if (stack.length + prefixRun > MAX_NESTING) return [{ code: 'RLP1006', span: at, args: { limit: MAX_NESTING } }];
    } else if (CLOSE.has(s)) {
      const open = stack.pop();
      if (open === undefined) return [{ code: 'RLP1004', span: at, args: { close: s } }];
      const want = OPEN[open.image]!;
      if (want !== s && !(ranges.has(open) && s !== '}')) {
        return [{ code: 'RLP1005', span: at, args: { open: open.image, want, found: s, openLine: open.startOffset } }];
      }
    } else if (stack.length + prefixRun > MAX_NESTING) {
      return [{ code: 'RLP1006', span: at, args: { limit: MAX_NESTING } }];
    }
  }
  const unclosed = stack.pop();
  if (unclosed !== undefined) {
    const s = span(file, unclosed.startOffset, unclosed.startOffset + 1);
    return [{ code: 'RLP1003', span: s, args: { open: unclosed.image, want: OPEN[unclosed.image]! } }];
  }
  return [];
}
