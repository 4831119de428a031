/**
 * The Chevrotain CST parser. One rule per syntactic form; the rules are class fields of a
 * singleton, as Chevrotain requires. This file is longer than the house limit because a grammar
 * reads best in one place.
 *
 * Statements need no separators: no expression can continue with `name =` or `name :`, so a
 * binding ends where the next one begins. `;` is accepted between statements.
 */
import { CstParser, type CstNode, type IToken } from 'chevrotain';
import * as T from './tokens.js';

/** The grammar. `theParser()` builds the shared one; `validate` (tests) also runs Chevrotain's grammar checks. */
export class RlpParser extends CstParser {
  constructor(validate = false) {
    // Node locations let the AST builder take a node's span in O(1) (walking its tokens was quadratic).
    // Chevrotain's grammar checks (ambiguities, left recursion) take a third of a cold start: a
    // test runs them (test/grammar/validate.test.ts), a command does not.
    super([...T.ALL_TOKENS], { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: 'onlyOffset', skipValidations: !validate });
    this.performSelfAnalysis();
  }

  file = this.RULE('file', () => {
    this.MANY(() => this.SUBRULE(this.topItem));
  });

  topItem = this.RULE('topItem', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.pipelineDecl) },
      { ALT: () => this.SUBRULE(this.fnDecl) },
      { ALT: () => this.SUBRULE(this.dimDecl) },
      { ALT: () => this.CONSUME(T.Semi) },
    ]);
  });

  importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.StringLit);
  });

  dimDecl = this.RULE('dimDecl', () => {
    this.CONSUME(T.Dim);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.CONSUME(T.StringLit));
  });

  pipelineDecl = this.RULE('pipelineDecl', () => {
    this.CONSUME(T.Pipeline);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(T.Extends);
      this.CONSUME2(T.Identifier, { LABEL: 'parent' });
    });
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.block));
    this.CONSUME(T.RBrace);
  });

  block = this.RULE('block', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.member));
    this.CONSUME(T.RBrace);
  });

  member = this.RULE('member', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.minimizeStmt) },
      { ALT: () => this.SUBRULE(this.binding) },
      { ALT: () => this.SUBRULE(this.expr) },
      { ALT: () => this.CONSUME(T.Semi) },
    ]);
  });

  minimizeStmt = this.RULE('minimizeStmt', () => {
    this.CONSUME(T.Minimize);
    this.SUBRULE(this.expr);
  });

  binding = this.RULE('binding', () => {
    this.CONSUME(T.Identifier);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Colon);
          this.SUBRULE(this.typeExpr);
          this.OPTION(() => {
            this.CONSUME(T.Assign);
            this.SUBRULE(this.expr);
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME2(T.Assign);
          this.SUBRULE2(this.expr);
        },
      },
    ]);
    this.OPTION3(() => this.SUBRULE(this.range));
    this.OPTION2(() => this.CONSUME(T.StringLit));
  });

  /** `in [lo, hi]`, `in [lo, hi)`, `in (lo, hi]`, `in (lo, hi)`: a param's declared range. */
  range = this.RULE('range', () => {
    this.CONSUME(T.In);
    this.OR([{ ALT: () => this.CONSUME(T.LBracket, { LABEL: 'open' }) }, { ALT: () => this.CONSUME(T.LParen, { LABEL: 'open' }) }]);
    this.SUBRULE(this.expr, { LABEL: 'lo' });
    this.CONSUME(T.Comma);
    this.SUBRULE2(this.expr, { LABEL: 'hi' });
    this.OR2([{ ALT: () => this.CONSUME(T.RBracket, { LABEL: 'close' }) }, { ALT: () => this.CONSUME(T.RParen, { LABEL: 'close' }) }]);
  });

  fnDecl = this.RULE('fnDecl', () => {
    this.CONSUME(T.Fn);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.fnParam) });
    this.CONSUME(T.RParen);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.typeExpr);
    });
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Assign);
          this.SUBRULE(this.expr);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LBrace);
          this.MANY(() => this.SUBRULE(this.member));
          this.CONSUME(T.RBrace);
        },
      },
    ]);
  });

  fnParam = this.RULE('fnParam', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.typeExpr);
    });
  });

  /** `f32[B,G,T]`, `float`, or a choice among strings: `choice("a", "b")`. */
  typeExpr = this.RULE('typeExpr', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.LBracket);
            this.MANY_SEP({ SEP: T.Comma, DEF: () => this.CONSUME2(T.Identifier) });
            this.CONSUME(T.RBracket);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.LParen);
            this.OPTION2(() => {
              this.CONSUME(T.StringLit);
              this.MANY(() => {
                this.CONSUME(T.Comma);
                this.CONSUME2(T.StringLit);
              });
            });
            this.CONSUME(T.RParen);
          },
        },
      ]);
    });
  });

  expr = this.RULE('expr', () => {
    this.SUBRULE(this.andExpr);
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.andExpr);
    });
  });

  andExpr = this.RULE('andExpr', () => {
    this.SUBRULE(this.notExpr);
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.notExpr);
    });
  });

  notExpr = this.RULE('notExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.notExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.cmpExpr) },
    ]);
  });

  cmpExpr = this.RULE('cmpExpr', () => {
    this.SUBRULE(this.addExpr);
    this.OPTION(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.EqEq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LessEq) },
        { ALT: () => this.CONSUME(T.GreaterEq) },
        { ALT: () => this.CONSUME(T.Less) },
        { ALT: () => this.CONSUME(T.Greater) },
      ]);
      this.SUBRULE2(this.addExpr);
    });
  });

  addExpr = this.RULE('addExpr', () => {
    this.SUBRULE(this.mulExpr);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.mulExpr);
    });
  });

  mulExpr = this.RULE('mulExpr', () => {
    this.SUBRULE(this.unaryExpr);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Star) }, { ALT: () => this.CONSUME(T.Slash) }]);
      this.SUBRULE2(this.unaryExpr);
    });
  });

  unaryExpr = this.RULE('unaryExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.OR2([{ ALT: () => this.CONSUME(T.Minus) }, { ALT: () => this.CONSUME(T.Plus) }]);
          this.SUBRULE(this.unaryExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.powExpr) },
    ]);
  });

  powExpr = this.RULE('powExpr', () => {
    this.SUBRULE(this.postfixExpr);
    this.OPTION(() => {
      this.CONSUME(T.Power);
      this.SUBRULE(this.unaryExpr);
    });
  });

  postfixExpr = this.RULE('postfixExpr', () => {
    this.SUBRULE(this.primary);
    this.MANY(() => this.SUBRULE(this.indexSuffix));
  });

  indexSuffix = this.RULE('indexSuffix', () => {
    this.CONSUME(T.LBracket);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
    this.CONSUME(T.RBracket);
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLit) },
      { ALT: () => this.CONSUME(T.StringLit) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.SUBRULE(this.nameOrCall) },
      { ALT: () => this.SUBRULE(this.parenExpr) },
    ]);
  });

  parenExpr = this.RULE('parenExpr', () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expr);
    this.CONSUME(T.RParen);
  });

  nameOrCall = this.RULE('nameOrCall', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.arg) });
      this.CONSUME(T.RParen);
    });
  });

  arg = this.RULE('arg', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Over);
          this.SUBRULE(this.dimList);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Where);
          this.SUBRULE(this.expr);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Identifier);
          this.CONSUME(T.Assign);
          this.SUBRULE2(this.expr);
        },
      },
      { ALT: () => this.SUBRULE3(this.expr) },
    ]);
  });

  dimList = this.RULE('dimList', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Identifier) },
      {
        ALT: () => {
          this.CONSUME(T.LBracket);
          this.MANY_SEP({ SEP: T.Comma, DEF: () => this.CONSUME2(T.Identifier) });
          this.CONSUME(T.RBracket);
        },
      },
    ]);
  });
}

let parser: RlpParser | undefined;

/** The parser singleton (Chevrotain parsers are built once and reused), built on first use: a well-formed file never needs it (grammar/fast-parse.ts). */
export function theParser(): RlpParser {
  return (parser ??= new RlpParser());
}

/** Human descriptions of what each rule starts with, for "expected ..." messages. */
export const RULE_EXPECTATIONS: Readonly<Record<string, string>> = Object.freeze({
  topItem: '`import`, `pipeline`, `fn` or `dim`',
  member: 'a binding (`name = expr`), `minimize` or an expression',
  binding: '`:` or `=`',
  fnDecl: '`=` or `{`',
  notExpr: 'an expression',
  unaryExpr: 'an expression',
  primary: 'an expression',
  arg: 'an argument',
  dimList: 'a dimension name or a list `[A, B]`',
  cmpExpr: 'a comparison operator',
  addExpr: '`+` or `-`',
  mulExpr: '`*` or `/`',
});

/** Parse a token vector into a CST; errors are left on `theParser().errors`. */
export function parseTokens(tokens: IToken[]): CstNode {
  const p = theParser();
  p.input = tokens;
  return p.file();
}
