/**
 * The fast path of `parseFile` for well-formed files: a hand-written lexer (fast-lex.ts) and recursive-descent
 * parser that build the AST directly, with no Chevrotain start-up (building the Chevrotain lexer
 * and parser is most of a cold `rlp check`).
 *
 * It accepts a file only when the Chevrotain path would, and builds the same AST: every decision
 * takes the branch Chevrotain's lookahead takes (one token, two for `name :`/`name =`), and at
 * anything else — a lexical error, a limit of delimiters.ts, a token the grammar does not expect —
 * it gives up (returns null) and `parseFile` runs the Chevrotain path, which reports the problems.
 * test/grammar/fast-parse.test.ts checks both paths agree on every file of the repository and on
 * random edits of them.
 */
import type * as A from './ast.js';
import { unquote } from './cst-to-ast.js';
import { looksLikeUtf16 } from './encoding.js';
import {
  AND, ASSIGN, COLON, COMMA, DIM, EOF, EQEQ, EXTENDS, FALSE, FN, GREATER, GREATEREQ, ID, IMPORT, IN, LBRACE, LBRACKET, LESS, LESSEQ,
  LPAREN, MINIMIZE, MINUS, NOT, NOTEQ, NUM, OR, OVER, PIPELINE, PLUS, POWER, RBRACE, RBRACKET, RPAREN, SEMI, SLASH, STAR, STR, TRUE, WHERE,
  tokenize, withinLimits,
} from './fast-lex.js';
import { span, type SourceFile, type Span } from './source.js';

/** Thrown inside the parser to give up; caught by `fastParse`. */
const GIVE_UP = Symbol('give up');

const FIRST_EXPR = new Set([NOT, MINUS, PLUS, NUM, STR, TRUE, FALSE, ID, LPAREN]);
const FIRST_MEMBER = new Set([MINIMIZE, SEMI, ...FIRST_EXPR]);
const FIRST_ARG = new Set([OVER, WHERE, ...FIRST_EXPR]);
const FIRST_TOP = new Set([IMPORT, PIPELINE, FN, DIM, SEMI]);
const COMPARISONS = new Set([EQEQ, NOTEQ, LESSEQ, GREATEREQ, LESS, GREATER]);

/**
 * The AST of a well-formed file, exactly as the Chevrotain path builds it; null whenever the file
 * has any lexical or syntax problem (or is one the fast path leaves to that path).
 */
export function fastParse(file: SourceFile): A.FileNode | null {
  const text = file.text;
  if (looksLikeUtf16(text)) return null;
  const toks = tokenize(text);
  if (toks === null || !withinLimits(toks.kinds)) return null;
  const { kinds, starts, ends, docs } = toks;
  const count = kinds.length;
  let p = 0;

  const peek = (o = 0): number => (p + o < count ? kinds[p + o]! : EOF);
  const expect = (k: number): number => {
    if (kinds[p] !== k || p >= count) throw GIVE_UP;
    return p++;
  };
  const image = (i: number): string => text.slice(starts[i]!, ends[i]!);
  const tokSpan = (i: number): Span => span(file, starts[i]!, ends[i]!);
  /** The span of tokens first..last (inclusive). */
  const range = (first: number, last: number): Span => span(file, starts[first]!, ends[last]!);
  const ident = (i: number): A.Ident => ({ name: image(i), span: tokSpan(i) });
  const binary = (left: A.Expr, op: A.BinaryOp, at: number, right: A.Expr): A.Expr => ({
    kind: 'Binary',
    span: span(file, left.span.start, right.span.end),
    op,
    opSpan: tokSpan(at),
    left,
    right,
  });

  /** The `///` lines directly above offset `start`, joined (as cst-to-ast.ts's docAbove). */
  const docAbove = (start: number): string => {
    const lines: string[] = [];
    let pos = start;
    for (let i = docs.length - 1; i >= 0; i--) {
      const d = docs[i]!;
      const end = d.startOffset + d.image.length;
      if (end > pos) continue;
      if (!/^\s*$/.test(text.slice(end, pos))) break;
      lines.unshift(d.image.slice(3).replace(/^ /, ''));
      pos = d.startOffset;
    }
    return lines.join('\n');
  };

  // ---- declarations ----------------------------------------------------------------------------

  const importDecl = (): A.ImportDecl => {
    const s = expect(IMPORT);
    const str = expect(STR);
    return { kind: 'Import', span: range(s, str), path: unquote(image(str)), pathSpan: tokSpan(str) };
  };

  const dimDecl = (): A.DimDecl => {
    const s = expect(DIM);
    const id = expect(ID);
    const str = peek() === STR ? p++ : -1;
    const sp = range(s, p - 1);
    return { kind: 'Dim', span: sp, name: ident(id), doc: str >= 0 ? unquote(image(str)) : docAbove(sp.start) };
  };

  const pipelineDecl = (): A.PipelineDecl => {
    const s = expect(PIPELINE);
    const name = expect(ID);
    let parent = -1;
    if (peek() === EXTENDS) {
      p++;
      parent = expect(ID);
    }
    expect(LBRACE);
    const blocks: A.Block[] = [];
    while (peek() === ID) blocks.push(block());
    const sp = range(s, expect(RBRACE));
    return { kind: 'Pipeline', span: sp, name: ident(name), parent: parent < 0 ? null : ident(parent), blocks, doc: docAbove(sp.start) };
  };

  const block = (): A.Block => {
    const s = expect(ID);
    expect(LBRACE);
    const members = memberList();
    const close = expect(RBRACE);
    return { kind: 'Block', span: range(s, close), name: ident(s), members };
  };

  const memberList = (): A.Member[] => {
    const out: A.Member[] = [];
    while (FIRST_MEMBER.has(peek())) {
      const k = peek();
      const s = p;
      if (k === SEMI) p++;
      else if (k === MINIMIZE) {
        p++;
        const value = expr();
        out.push({ kind: 'Minimize', span: range(s, p - 1), value });
      } else if (k === ID && (peek(1) === COLON || peek(1) === ASSIGN)) out.push(binding());
      else {
        const value = expr();
        out.push({ kind: 'ExprStmt', span: range(s, p - 1), value });
      }
    }
    return out;
  };

  const binding = (): A.Binding => {
    const s = expect(ID);
    let type: A.TypeExpr | null = null;
    let value: A.Expr | null = null;
    if (peek() === COLON) {
      p++;
      type = typeExpr();
      if (peek() === ASSIGN) {
        p++;
        value = expr();
      }
    } else {
      expect(ASSIGN);
      value = expr();
    }
    const rangeExpr = peek() === IN ? paramRange() : null;
    const doc = peek() === STR ? p++ : -1;
    const sp = range(s, p - 1);
    return {
      kind: 'Binding',
      span: sp,
      name: ident(s),
      type,
      value,
      range: rangeExpr,
      docString: doc < 0 ? null : unquote(image(doc)),
      doc: docAbove(sp.start),
    };
  };

  const paramRange = (): A.RangeExpr => {
    const s = expect(IN);
    const open = peek();
    if (open !== LBRACKET && open !== LPAREN) throw GIVE_UP;
    p++;
    const lo = expr();
    expect(COMMA);
    const hi = expr();
    const close = peek();
    if (close !== RBRACKET && close !== RPAREN) throw GIVE_UP;
    p++;
    return { kind: 'Range', span: range(s, p - 1), lo, hi, loInclusive: open === LBRACKET, hiInclusive: close === RBRACKET };
  };

  const fnDecl = (): A.FnDecl => {
    const s = expect(FN);
    const name = expect(ID);
    expect(LPAREN);
    const params: A.FnParam[] = [];
    if (peek() === ID) {
      params.push(fnParam());
      while (peek() === COMMA) {
        p++;
        params.push(fnParam());
      }
    }
    expect(RPAREN);
    let returnType: A.TypeExpr | null = null;
    if (peek() === COLON) {
      p++;
      returnType = typeExpr();
    }
    let body: A.Member[];
    if (peek() === ASSIGN) {
      p++;
      const es = p;
      const value = expr();
      body = [{ kind: 'ExprStmt', span: range(es, p - 1), value }];
    } else {
      expect(LBRACE);
      body = memberList();
      expect(RBRACE);
    }
    const sp = range(s, p - 1);
    return { kind: 'Fn', span: sp, name: ident(name), params, returnType, body, doc: docAbove(sp.start) };
  };

  const fnParam = (): A.FnParam => {
    const id = expect(ID);
    let type: A.TypeExpr | null = null;
    if (peek() === COLON) {
      p++;
      type = typeExpr();
    }
    return { name: ident(id), type };
  };

  const typeExpr = (): A.TypeExpr => {
    const s = expect(ID);
    let dims: A.Ident[] | null = null;
    let choices: A.StringChoice[] | null = null;
    if (peek() === LBRACKET) {
      p++;
      dims = identList();
      expect(RBRACKET);
    } else if (peek() === LPAREN) {
      p++;
      choices = [];
      if (peek() === STR) {
        const choice = (i: number): A.StringChoice => ({ value: unquote(image(i)), span: tokSpan(i) });
        choices.push(choice(p++));
        while (peek() === COMMA) {
          p++;
          choices.push(choice(expect(STR)));
        }
      }
      expect(RPAREN);
    }
    return { kind: 'Type', span: range(s, p - 1), name: ident(s), dims, choices };
  };

  /** `A, B, C` (possibly empty) before a `]`. */
  const identList = (): A.Ident[] => {
    const out: A.Ident[] = [];
    if (peek() === ID) {
      out.push(ident(p++));
      while (peek() === COMMA) {
        p++;
        out.push(ident(expect(ID)));
      }
    }
    return out;
  };

  // ---- expressions -----------------------------------------------------------------------------

  const expr = (): A.Expr => {
    let left = andExpr();
    while (peek() === OR) {
      const at = p++;
      left = binary(left, 'or', at, andExpr());
    }
    return left;
  };

  const andExpr = (): A.Expr => {
    let left = notExpr();
    while (peek() === AND) {
      const at = p++;
      left = binary(left, 'and', at, notExpr());
    }
    return left;
  };

  const notExpr = (): A.Expr => {
    if (peek() !== NOT) return cmpExpr();
    const at = p++;
    const operand = notExpr();
    return { kind: 'Unary', span: span(file, starts[at]!, operand.span.end), op: 'not', opSpan: tokSpan(at), operand };
  };

  const cmpExpr = (): A.Expr => {
    const left = addExpr();
    if (!COMPARISONS.has(peek())) return left;
    const at = p++;
    return binary(left, image(at) as A.BinaryOp, at, addExpr());
  };

  const addExpr = (): A.Expr => {
    let left = mulExpr();
    while (peek() === PLUS || peek() === MINUS) {
      const at = p++;
      left = binary(left, image(at) as A.BinaryOp, at, mulExpr());
    }
    return left;
  };

  const mulExpr = (): A.Expr => {
    let left = unaryExpr();
    while (peek() === STAR || peek() === SLASH) {
      const at = p++;
      left = binary(left, image(at) as A.BinaryOp, at, unaryExpr());
    }
    return left;
  };

  const unaryExpr = (): A.Expr => {
    if (peek() !== MINUS && peek() !== PLUS) return powExpr();
    const at = p++;
    const operand = unaryExpr();
    return { kind: 'Unary', span: span(file, starts[at]!, operand.span.end), op: image(at) as A.UnaryOp, opSpan: tokSpan(at), operand };
  };

  const powExpr = (): A.Expr => {
    const base = postfixExpr();
    if (peek() !== POWER) return base;
    const at = p++;
    return binary(base, '**', at, unaryExpr());
  };

  const postfixExpr = (): A.Expr => {
    let acc = primary();
    while (peek() === LBRACKET) {
      p++;
      const dim = expect(ID);
      expect(ASSIGN);
      const index = expr();
      const close = expect(RBRACKET);
      acc = { kind: 'Index', span: span(file, acc.span.start, starts[close]! + 1), target: acc, dim: ident(dim), index };
    }
    return acc;
  };

  const primary = (): A.Expr => {
    const at = p;
    switch (peek()) {
      case NUM: {
        p++;
        const img = image(at);
        return { kind: 'Number', span: tokSpan(at), value: Number(img), isInt: /^\d+$/.test(img) };
      }
      case STR:
        p++;
        return { kind: 'String', span: tokSpan(at), value: unquote(image(at)) };
      case TRUE:
      case FALSE:
        p++;
        return { kind: 'Bool', span: tokSpan(at), value: kinds[at] === TRUE };
      case ID:
        return nameOrCall();
      case LPAREN: {
        p++;
        const inner = expr();
        expect(RPAREN);
        return inner;
      }
      default:
        throw GIVE_UP;
    }
  };

  const nameOrCall = (): A.Expr => {
    const s = expect(ID);
    if (peek() !== LPAREN) return { kind: 'Name', span: tokSpan(s), name: image(s) };
    p++;
    const args: A.Arg[] = [];
    if (FIRST_ARG.has(peek())) {
      args.push(arg());
      while (peek() === COMMA) {
        p++;
        args.push(arg());
      }
    }
    expect(RPAREN);
    return { kind: 'Call', span: range(s, p - 1), callee: ident(s), args };
  };

  const arg = (): A.Arg => {
    const s = p;
    const k = peek();
    if (k === OVER) {
      p++;
      let dims: A.Ident[];
      if (peek() === ID) dims = [ident(p++)];
      else {
        expect(LBRACKET);
        dims = identList();
        expect(RBRACKET);
      }
      return { kind: 'Over', span: range(s, p - 1), dims };
    }
    if (k === WHERE) {
      p++;
      const value = expr();
      return { kind: 'Where', span: range(s, p - 1), value };
    }
    if (k === ID && peek(1) === ASSIGN) {
      p += 2;
      const value = expr();
      return { kind: 'Keyword', span: range(s, p - 1), name: ident(s), value };
    }
    if (!FIRST_EXPR.has(k)) throw GIVE_UP;
    const value = expr();
    return { kind: 'Positional', span: range(s, p - 1), value };
  };

  try {
    const items: A.TopItem[] = [];
    while (FIRST_TOP.has(peek())) {
      const k = peek();
      if (k === SEMI) p++;
      else if (k === IMPORT) items.push(importDecl());
      else if (k === PIPELINE) items.push(pipelineDecl());
      else if (k === FN) items.push(fnDecl());
      else items.push(dimDecl());
    }
    if (p !== count) return null;
    return { kind: 'File', span: span(file, 0, text.length), items };
  } catch (e) {
    // A token the grammar does not expect here, or nesting too deep for the stack.
    if (e === GIVE_UP || e instanceof RangeError) return null;
    throw e;
  }
}
