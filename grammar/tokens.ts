/** The token vocabulary of the rlp language (Chevrotain token types). */
import { createToken, Lexer, type TokenType } from 'chevrotain';

/** Identifiers; every keyword is a longer-alt category of it. */
export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

function keyword(word: string): TokenType {
  return createToken({ name: word[0]!.toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Identifier });
}

export const Import = keyword('import');
export const Pipeline = keyword('pipeline');
export const Extends = keyword('extends');
export const Fn = keyword('fn');
export const Dim = keyword('dim');
export const Minimize = keyword('minimize');
export const Over = keyword('over');
export const Where = keyword('where');
export const True = keyword('true');
export const False = keyword('false');
export const And = keyword('and');
export const Or = keyword('or');
export const Not = keyword('not');
export const In = keyword('in');

/** The words the language reserves (for diagnostics and the formatter). */
export const KEYWORDS: readonly string[] = Object.freeze([
  'import', 'pipeline', 'extends', 'fn', 'dim', 'minimize', 'over', 'where', 'true', 'false', 'and', 'or', 'not', 'in',
]);

export const DocComment = createToken({ name: 'DocComment', pattern: /\/\/\/[^\n\r]*/, group: 'docs' });
export const LineComment = createToken({ name: 'LineComment', pattern: /(?:#|\/\/)[^\n\r]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED, line_breaks: true });
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v]+/, group: Lexer.SKIPPED, line_breaks: true });

export const NumberLit = createToken({
  name: 'NumberLit',
  pattern: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/,
});
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"/ });

/** Error tokens: matched so the lexer can report them precisely, then removed before parsing. */
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*\\?/, group: 'errors' });
export const UnterminatedComment = createToken({ name: 'UnterminatedComment', pattern: /\/\*[\s\S]*/, group: 'errors', line_breaks: true });
export const MalformedNumber = createToken({ name: 'MalformedNumber', pattern: /(?:\d+(?:\.\d*)?|\.\d+)[eE](?![+-]?\d)[+-]?/, group: 'errors' });

export const LBrace = createToken({ name: 'LBrace', pattern: /\{/, label: "'{'" });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/, label: "'}'" });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/, label: "']'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const Semi = createToken({ name: 'Semi', pattern: /;/, label: "';'" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
export const EqEq = createToken({ name: 'EqEq', pattern: /==/, label: "'=='" });
export const NotEq = createToken({ name: 'NotEq', pattern: /!=/, label: "'!='" });
export const LessEq = createToken({ name: 'LessEq', pattern: /<=/, label: "'<='" });
export const GreaterEq = createToken({ name: 'GreaterEq', pattern: /\>=/, label: "'>='" });
export const Less = createToken({ name: 'Less', pattern: /</, label: "'<'" });
export const Greater = createToken({ name: 'Greater', pattern: />/, label: "'>'" });
export const Assign = createToken({ name: 'Assign', pattern: /=/, label: "'='" });
export const Power = createToken({ name: 'Power', pattern: /\*\*/, label: "'**'" });
export const Plus = createToken({ name: 'Plus', pattern: /\+/, label: "'+'" });
export const Minus = createToken({ name: 'Minus', pattern: /-/, label: "'-'" });
export const Star = createToken({ name: 'Star', pattern: /\*/, label: "'*'" });
export const Slash = createToken({ name: 'Slash', pattern: /\//, label: "'/'" });
export const Dot = createToken({ name: 'Dot', pattern: /\./, label: "'.'" });

/** All token types, in lexing priority order. */
export const ALL_TOKENS: readonly TokenType[] = Object.freeze([
  WhiteSpace, DocComment, LineComment, BlockComment, UnterminatedComment,
  MalformedNumber, NumberLit, StringLit, UnterminatedString,
  Import, Pipeline, Extends, Fn, Dim, Minimize, Over, Where, True, False, And, Or, Not, In,
  Identifier,
  LBrace, RBrace, LParen, RParen, LBracket, RBracket, Comma, Semi, Colon,
  EqEq, NotEq, LessEq, GreaterEq, Less, Greater, Assign,
  Power, Plus, Minus, Star, Slash, Dot,
]);
