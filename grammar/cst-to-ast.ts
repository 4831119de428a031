/** CST -> AST: turns Chevrotain's concrete tree into readonly AST nodes with spans. */
import type { CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import { span, type SourceFile, type Span } from './source.js';

type Child = CstNode | IToken;

function isToken(c: Child): c is IToken {
  return (c as IToken).image !== undefined;
}

/** Builds AST nodes for one file; assumes a CST without recovery holes (callers check errors first). */
export class AstBuilder {
  constructor(
    private readonly file: SourceFile,
    private readonly docs: readonly IToken[],
  ) {}

  build(root: CstNode): A.FileNode {
    const items: A.TopItem[] = [];
    for (const item of this.nodes(root, 'topItem')) {
      const inner = this.firstNode(item);
      if (inner === undefined) continue;
      if (inner.name === 'importDecl') items.push(this.importDecl(inner));
      else if (inner.name === 'pipelineDecl') items.push(this.pipelineDecl(inner));
      else if (inner.name === 'fnDecl') items.push(this.fnDecl(inner));
      else if (inner.name === 'dimDecl') items.push(this.dimDecl(inner));
    }
    return { kind: 'File', span: span(this.file, 0, this.file.text.length), items };
  }

  // ---- helpers -------------------------------------------------------------------------------

  private nodes(n: CstNode, key: string): CstNode[] {
    return (n.children[key] ?? []).filter((c): c is CstNode => !isToken(c));
  }

  private tokens(n: CstNode, key: string): IToken[] {
    return (n.children[key] ?? []).filter(isToken);
  }

  private firstNode(n: CstNode): CstNode | undefined {
    for (const list of Object.values(n.children)) for (const c of list) if (!isToken(c)) return c;
    return undefined;
  }

  private tok(n: CstNode, key: string, i = 0): IToken {
    const t = this.tokens(n, key)[i];
    if (t === undefined) throw new Error(`internal: missing token ${key} in ${n.name}`);
    return t;
  }

  private node(n: CstNode, key: string, i = 0): CstNode {
    const c = this.nodes(n, key)[i];
    if (c === undefined) throw new Error(`internal: missing node ${key} in ${n.name}`);
    return c;
  }

  private tokSpan(t: IToken): Span {
    return span(this.file, t.startOffset, t.startOffset + t.image.length);
  }

  /** The span from the first to the last token under a CST node. */
  /** A node's span: from the parser's node location, else (a node built here) from its tokens. */
  private nodeSpan(n: CstNode): Span {
    const lo0 = n.location?.startOffset ?? NaN;
    const hi0 = n.location?.endOffset ?? NaN;
    if (Number.isFinite(lo0) && Number.isFinite(hi0)) return span(this.file, lo0, hi0 + 1);
    let lo = Infinity;
    let hi = -Infinity;
    const stack: CstNode[] = [n];
    while (stack.length > 0) {
      const cur = stack.pop()!;
      for (const list of Object.values(cur.children)) {
        for (const c of list) {
          if (isToken(c)) {
            if (Number.isFinite(c.startOffset)) {
              lo = Math.min(lo, c.startOffset);
              hi = Math.max(hi, c.startOffset + c.image.length);
            }
          } else stack.push(c);
        }
      }
    }
    return Number.isFinite(lo) ? span(this.file, lo, hi) : span(this.file, 0, 0);
  }

  private ident(t: IToken): A.Ident {
    return { name: t.image, span: this.tokSpan(t) };
  }

  /** The `///` doc comment lines directly above offset `start`, joined. */
  private docAbove(start: number): string {
    const lines: string[] = [];
    let pos = start;
    for (let i = this.docs.length - 1; i >= 0; i--) {
      const d = this.docs[i]!;
      const end = d.startOffset + d.image.length;
      if (end > pos) continue;
      if (!/^\s*$/.test(this.file.text.slice(end, pos))) break;
      lines.unshift(d.image.slice(3).replace(/^ /, ''));
      pos = d.startOffset;
    }
    return lines.join('\n');
  }

  // ---- declarations --------------------------------------------------------------------------

  private importDecl(n: CstNode): A.ImportDecl {
    const s = this.tok(n, 'StringLit');
    return { kind: 'Import', span: this.nodeSpan(n), path: unquote(s.image), pathSpan: this.tokSpan(s) };
  }

  private dimDecl(n: CstNode): A.DimDecl {
    const s = this.tokens(n, 'StringLit')[0];
    const sp = this.nodeSpan(n);
    const doc = s !== undefined ? unquote(s.image) : this.docAbove(sp.start);
    return { kind: 'Dim', span: sp, name: this.ident(this.tok(n, 'Identifier')), doc };
  }

  private pipelineDecl(n: CstNode): A.PipelineDecl {
    const parent = this.tokens(n, 'parent')[0];
    const sp = this.nodeSpan(n);
    return {
      kind: 'Pipeline',
      span: sp,
      name: this.ident(this.tok(n, 'name')),
      parent: parent === undefined ? null : this.ident(parent),
      blocks: this.nodes(n, 'block').map((b) => this.block(b)),
      doc: this.docAbove(sp.start),
    };
  }

  private block(n: CstNode): A.Block {
    return {
      kind: 'Block',
      span: this.nodeSpan(n),
      name: this.ident(this.tok(n, 'Identifier')),
      members: this.members(n),
    };
  }

  private members(n: CstNode): A.Member[] {
    const out: A.Member[] = [];
    for (const m of this.nodes(n, 'member')) {
      const inner = this.firstNode(m);
      if (inner === undefined) continue;
      const sp = this.nodeSpan(inner);
      if (inner.name === 'minimizeStmt') out.push({ kind: 'Minimize', span: sp, value: this.expr(this.node(inner, 'expr')) });
      else if (inner.name === 'binding') out.push(this.binding(inner));
      else out.push({ kind: 'ExprStmt', span: sp, value: this.expr(inner) });
    }
    return out;
  }

  private binding(n: CstNode): A.Binding {
    const ty = this.nodes(n, 'typeExpr')[0];
    const value = this.nodes(n, 'expr')[0];
    const doc = this.tokens(n, 'StringLit')[0];
    const range = this.nodes(n, 'range')[0];
    const sp = this.nodeSpan(n);
    return {
      kind: 'Binding',
      span: sp,
      name: this.ident(this.tok(n, 'Identifier')),
      type: ty === undefined ? null : this.typeExpr(ty),
      value: value === undefined ? null : this.expr(value),
      range: range === undefined ? null : this.range(range),
      docString: doc === undefined ? null : unquote(doc.image),
      doc: this.docAbove(sp.start),
    };
  }

  private range(n: CstNode): A.RangeExpr {
    return {
      kind: 'Range',
      span: this.nodeSpan(n),
      lo: this.expr(this.node(n, 'lo')),
      hi: this.expr(this.node(n, 'hi')),
      loInclusive: this.tok(n, 'open').image === '[',
      hiInclusive: this.tok(n, 'close').image === ']',
    };
  }

  private fnDecl(n: CstNode): A.FnDecl {
    const ty = this.nodes(n, 'typeExpr')[0];
    const single = this.nodes(n, 'expr')[0];
    const sp = this.nodeSpan(n);
    const body: A.Member[] =
      single !== undefined ? [{ kind: 'ExprStmt', span: this.nodeSpan(single), value: this.expr(single) }] : this.members(n);
    return {
      kind: 'Fn',
      span: sp,
      name: this.ident(this.tok(n, 'Identifier')),
      params: this.nodes(n, 'fnParam').map((p) => {
        const pt = this.nodes(p, 'typeExpr')[0];
        return { name: this.ident(this.tok(p, 'Identifier')), type: pt === undefined ? null : this.typeExpr(pt) };
      }),
      returnType: ty === undefined ? null : this.typeExpr(ty),
      body,
      doc: this.docAbove(sp.start),
    };
  }

  private typeExpr(n: CstNode): A.TypeExpr {
    const ids = this.tokens(n, 'Identifier');
    const hasDims = this.tokens(n, 'LBracket').length > 0;
    return {
      kind: 'Type',
      span: this.nodeSpan(n),
      name: this.ident(ids[0]!),
      dims: hasDims ? ids.slice(1).map((t) => this.ident(t)) : null,
    };
  }

  // ---- expressions ---------------------------------------------------------------------------

  private expr(n: CstNode): A.Expr {
    switch (n.name) {
      case 'expr':
        return this.chain(n, 'andExpr', () => 'or');
      case 'andExpr':
        return this.chain(n, 'notExpr', () => 'and');
      case 'notExpr':
        return this.notExpr(n);
      case 'cmpExpr':
        return this.chain(n, 'addExpr', (t) => t.image as A.BinaryOp);
      case 'addExpr':
        return this.chain(n, 'mulExpr', (t) => t.image as A.BinaryOp);
      case 'mulExpr':
        return this.chain(n, 'unaryExpr', (t) => t.image as A.BinaryOp);
      case 'unaryExpr':
        return this.unaryExpr(n);
      case 'powExpr':
        return this.chain(n, 'postfixExpr', () => '**', 'unaryExpr');
      case 'postfixExpr':
        return this.postfixExpr(n);
      case 'primary':
        return this.primary(n);
      default:
        throw new Error(`internal: unexpected CST node ${n.name}`);
    }
  }

  /** A left-assoc chain `a op b op c`: operands under `key` (and `key2`), operators are the tokens. */
  private chain(n: CstNode, key: string, opOf: (t: IToken) => A.BinaryOp, key2?: string): A.Expr {
    // Most chains are a single operand: skip collecting operators (the AST build is hot while typing).
    const only = n.children[key];
    if (key2 === undefined && only !== undefined && only.length === 1 && Object.keys(n.children).length === 1) return this.expr(this.node(n, key));
    const operands = [...this.nodes(n, key), ...(key2 === undefined ? [] : this.nodes(n, key2))];
    const ops = Object.entries(n.children)
      .filter(([k]) => k !== key && k !== key2)
      .flatMap(([, v]) => v.filter(isToken))
      .sort((a, b) => a.startOffset - b.startOffset);
    let acc = this.expr(operands[0]!);
    for (let i = 0; i < ops.length; i++) {
      const right = this.expr(operands[i + 1]!);
      acc = {
        kind: 'Binary',
        span: span(this.file, acc.span.start, right.span.end),
        op: opOf(ops[i]!),
        opSpan: this.tokSpan(ops[i]!),
        left: acc,
        right,
      };
    }
    return acc;
  }

  private notExpr(n: CstNode): A.Expr {
    const not = this.tokens(n, 'Not')[0];
    if (not === undefined) return this.expr(this.node(n, 'cmpExpr'));
    const operand = this.expr(this.node(n, 'notExpr'));
    return { kind: 'Unary', span: span(this.file, not.startOffset, operand.span.end), op: 'not', opSpan: this.tokSpan(not), operand };
  }

  private unaryExpr(n: CstNode): A.Expr {
    const op = this.tokens(n, 'Minus')[0] ?? this.tokens(n, 'Plus')[0];
    if (op === undefined) return this.expr(this.node(n, 'powExpr'));
    const operand = this.expr(this.node(n, 'unaryExpr'));
    const s = span(this.file, op.startOffset, operand.span.end);
    return { kind: 'Unary', span: s, op: op.image as A.UnaryOp, opSpan: this.tokSpan(op), operand };
  }

  private postfixExpr(n: CstNode): A.Expr {
    let acc = this.expr(this.node(n, 'primary'));
    for (const suf of this.nodes(n, 'indexSuffix')) {
      const close = this.tok(suf, 'RBracket');
      acc = {
        kind: 'Index',
        span: span(this.file, acc.span.start, close.startOffset + 1),
        target: acc,
        dim: this.ident(this.tok(suf, 'Identifier')),
        index: this.expr(this.node(suf, 'expr')),
      };
    }
    return acc;
  }

  private primary(n: CstNode): A.Expr {
    const num = this.tokens(n, 'NumberLit')[0];
    if (num !== undefined) {
      return { kind: 'Number', span: this.tokSpan(num), value: Number(num.image), isInt: /^\d+$/.test(num.image) };
    }
    const str = this.tokens(n, 'StringLit')[0];
    if (str !== undefined) return { kind: 'String', span: this.tokSpan(str), value: unquote(str.image) };
    const t = this.tokens(n, 'True')[0] ?? this.tokens(n, 'False')[0];
    if (t !== undefined) return { kind: 'Bool', span: this.tokSpan(t), value: t.image === 'true' };
    const paren = this.nodes(n, 'parenExpr')[0];
    if (paren !== undefined) return this.expr(this.node(paren, 'expr'));
    return this.nameOrCall(this.node(n, 'nameOrCall'));
  }

  private nameOrCall(n: CstNode): A.Expr {
    const id = this.ident(this.tok(n, 'Identifier'));
    if (this.tokens(n, 'LParen').length === 0) return { kind: 'Name', span: id.span, name: id.name };
    return { kind: 'Call', span: this.nodeSpan(n), callee: id, args: this.nodes(n, 'arg').map((a) => this.arg(a)) };
  }

  private arg(n: CstNode): A.Arg {
    const sp = this.nodeSpan(n);
    const value = this.nodes(n, 'expr')[0];
    if (this.tokens(n, 'Over').length > 0) {
      const dl = this.node(n, 'dimList');
      return { kind: 'Over', span: sp, dims: this.tokens(dl, 'Identifier').map((t) => this.ident(t)) };
    }
    if (this.tokens(n, 'Where').length > 0) return { kind: 'Where', span: sp, value: this.expr(value!) };
    const kw = this.tokens(n, 'Identifier')[0];
    if (kw !== undefined) return { kind: 'Keyword', span: sp, name: this.ident(kw), value: this.expr(value!) };
    return { kind: 'Positional', span: sp, value: this.expr(value!) };
  }
}

/** Strip the quotes of a string literal and resolve its escapes. */
export function unquote(image: string): string {
  const body = image.slice(1, -1);
  return body.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}
