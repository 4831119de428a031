/**
 * The expressions of the ops' JS templates (`OpDef.js`: `(x + y)`, `fexp(x)`,
 * `(x <= y ? g : 0)`, `Math.min(hi, Math.max(lo, x))`...) parsed into a tree, so that the same
 * one source of an op's value and local derivatives can be compiled to other targets than JS
 * (compiler/codegen/wasm-kernel.ts). The grammar is the part of JavaScript's expression syntax
 * the templates use, with JavaScript's precedence; anything else is a parse error, which the
 * callers take as "this body is not supported here" (the JS kernel then runs it).
 */

/** An expression tree. */
export type Expr =
  | { readonly k: 'num'; readonly v: number }
  | { readonly k: 'id'; readonly name: string }
  | { readonly k: 'neg'; readonly a: Expr }
  | { readonly k: 'bin'; readonly op: string; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'cond'; readonly c: Expr; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'call'; readonly f: string; readonly args: readonly Expr[] };

const TOKEN = /\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)|(===|!==|<=|>=|&&|\|\||\*\*|[-+*/<>?:(),!]))/y;

/** Binding powers of the binary operators (left, right): JavaScript's precedence. */
const BINARY: Readonly<Record<string, [number, number]>> = {
  '||': [3, 4], '&&': [5, 6], '===': [7, 8], '!==': [7, 8],
  '<': [9, 10], '<=': [9, 10], '>': [9, 10], '>=': [9, 10],
  '+': [11, 12], '-': [11, 12], '*': [13, 14], '/': [13, 14], '**': [16, 15],
};

/** Parse a template expression; throws on anything outside the grammar. */
export function parseExpr(src: string): Expr {
  const toks: string[] = [];
  const kinds: ('num' | 'id' | 'op')[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (m === null) throw new Error(`unsupported expression at ${at}: ${src}`);
    toks.push(m[1] ?? m[2] ?? m[3]!);
    kinds.push(m[1] !== undefined ? 'num' : m[2] !== undefined ? 'id' : 'op');
  }
  let i = 0;
  const peek = (): string | undefined => toks[i];
  const expect = (t: string): void => {
    if (toks[i] !== t) throw new Error(`expected ${t} in ${src}`);
    i++;
  };
  const primary = (): Expr => {
    const t = toks[i];
    const kind = kinds[i];
    i++;
    if (t === undefined) throw new Error(`unexpected end of ${src}`);
    if (kind === 'num') return { k: 'num', v: Number(t) };
    if (kind === 'id') {
      if (peek() !== '(') return { k: 'id', name: t };
      i++;
      const args: Expr[] = [];
      if (peek() !== ')') {
        for (;;) {
          args.push(expr(0));
          if (peek() === ',') i++;
          else break;
        }
      }
      expect(')');
      return { k: 'call', f: t, args };
    }
    if (t === '(') {
      const e = expr(0);
      expect(')');
      return e;
    }
    if (t === '-') return { k: 'neg', a: expr(15) };
    throw new Error(`unsupported token ${t} in ${src}`);
  };
  const expr = (min: number): Expr => {
    let left = primary();
    for (;;) {
      const t = peek();
      if (t === '?' && min <= 2) {
        i++;
        const a = expr(0);
        expect(':');
        const b = expr(2);
        left = { k: 'cond', c: left, a, b };
        continue;
      }
      const bp = t === undefined ? undefined : BINARY[t];
      if (bp === undefined || bp[0] < min) return left;
      i++;
      left = { k: 'bin', op: t!, a: left, b: expr(bp[1]) };
    }
  };
  const e = expr(0);
  if (i !== toks.length) throw new Error(`trailing tokens in ${src}`);
  return e;
}
