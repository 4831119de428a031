/** The rlp abstract syntax tree: readonly nodes, each with its span. */
import type { Span } from './source.js';

/** A name as written, with where it was written. */
export interface Ident {
  readonly name: string;
  readonly span: Span;
}

export interface FileNode {
  readonly kind: 'File';
  readonly span: Span;
  readonly items: readonly TopItem[];
}

export type TopItem = ImportDecl | PipelineDecl | FnDecl | DimDecl;

export interface ImportDecl {
  readonly kind: 'Import';
  readonly span: Span;
  readonly path: string;
  readonly pathSpan: Span;
}

export interface DimDecl {
  readonly kind: 'Dim';
  readonly span: Span;
  readonly name: Ident;
  readonly doc: string;
}

export interface PipelineDecl {
  readonly kind: 'Pipeline';
  readonly span: Span;
  readonly name: Ident;
  readonly parent: Ident | null;
  readonly blocks: readonly Block[];
  readonly doc: string;
}

/** A `name { ... }` block inside a pipeline: `params`, a stage, `state` or `update`. */
export interface Block {
  readonly kind: 'Block';
  readonly span: Span;
  readonly name: Ident;
  readonly members: readonly Member[];
}

export type Member = Binding | Minimize | ExprStmt;

/** `name (: type)? (= value)? "doc"?` — a binding, a param or a state declaration. */
export interface Binding {
  readonly kind: 'Binding';
  readonly span: Span;
  readonly name: Ident;
  readonly type: TypeExpr | null;
  readonly value: Expr | null;
  /** `in [lo, hi)`: the declared range of a numeric param. */
  readonly range: RangeExpr | null;
  readonly docString: string | null;
  readonly doc: string;
}

/** `in [lo, hi]` after a param's default: `[`/`]` include the bound, `(`/`)` exclude it. */
export interface RangeExpr {
  readonly kind: 'Range';
  readonly span: Span;
  readonly lo: Expr;
  readonly hi: Expr;
  readonly loInclusive: boolean;
  readonly hiInclusive: boolean;
}

export interface Minimize {
  readonly kind: 'Minimize';
  readonly span: Span;
  readonly value: Expr;
}

export interface ExprStmt {
  readonly kind: 'ExprStmt';
  readonly span: Span;
  readonly value: Expr;
}

export interface FnDecl {
  readonly kind: 'Fn';
  readonly span: Span;
  readonly name: Ident;
  readonly params: readonly FnParam[];
  readonly returnType: TypeExpr | null;
  /** Statements of a block body; the last must be an expression (the result). */
  readonly body: readonly Member[];
  readonly doc: string;
}

export interface FnParam {
  readonly name: Ident;
  readonly type: TypeExpr | null;
}

/** `f32[B,G,T]`, `float`, `int`, `choice("a", "b")`... */
export interface TypeExpr {
  readonly kind: 'Type';
  readonly span: Span;
  readonly name: Ident;
  readonly dims: readonly Ident[] | null;
  /** The strings of `choice("a", "b")`, or null when the type has no parenthesized list. */
  readonly choices: readonly StringChoice[] | null;
}

/** One string of a `choice(...)` type, as written. */
export interface StringChoice {
  readonly value: string;
  readonly span: Span;
}

export type Expr = NumberExpr | StringExpr | BoolExpr | NameExpr | UnaryExpr | BinaryExpr | CallExpr | IndexExpr;

export interface NumberExpr {
  readonly kind: 'Number';
  readonly span: Span;
  readonly value: number;
  readonly isInt: boolean;
}

export interface StringExpr {
  readonly kind: 'String';
  readonly span: Span;
  readonly value: string;
}

export interface BoolExpr {
  readonly kind: 'Bool';
  readonly span: Span;
  readonly value: boolean;
}

export interface NameExpr {
  readonly kind: 'Name';
  readonly span: Span;
  readonly name: string;
}

export type UnaryOp = '-' | '+' | 'not';
export type BinaryOp = '+' | '-' | '*' | '/' | '**' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'and' | 'or';

export interface UnaryExpr {
  readonly kind: 'Unary';
  readonly span: Span;
  readonly op: UnaryOp;
  readonly opSpan: Span;
  readonly operand: Expr;
}

export interface BinaryExpr {
  readonly kind: 'Binary';
  readonly span: Span;
  readonly op: BinaryOp;
  readonly opSpan: Span;
  readonly left: Expr;
  readonly right: Expr;
}

export interface CallExpr {
  readonly kind: 'Call';
  readonly span: Span;
  readonly callee: Ident;
  readonly args: readonly Arg[];
}

export type Arg =
  | { readonly kind: 'Positional'; readonly span: Span; readonly value: Expr }
  | { readonly kind: 'Keyword'; readonly span: Span; readonly name: Ident; readonly value: Expr }
  | { readonly kind: 'Over'; readonly span: Span; readonly dims: readonly Ident[] }
  | { readonly kind: 'Where'; readonly span: Span; readonly value: Expr };

/** `x[G=0]`: pick one index along a named dimension, removing it. */
export interface IndexExpr {
  readonly kind: 'Index';
  readonly span: Span;
  readonly target: Expr;
  readonly dim: Ident;
  readonly index: Expr;
}

/** Call `visit` on every direct sub-expression of `e`. */
export function forEachChild(e: Expr, visit: (child: Expr) => void): void {
  switch (e.kind) {
    case 'Unary':
      visit(e.operand);
      return;
    case 'Binary':
      visit(e.left);
      visit(e.right);
      return;
    case 'Call':
      for (const a of e.args) if (a.kind !== 'Over') visit(a.value);
      return;
    case 'Index':
      visit(e.target);
      visit(e.index);
      return;
    default:
      return;
  }
}
