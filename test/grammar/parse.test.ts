/** The grammar: tokens, precedence, spans, docs, and syntax problems. */
import { describe, expect, it } from 'vitest';
import type { BinaryExpr, Expr, FileNode, PipelineDecl, UnaryExpr } from '../../grammar/ast.js';
import { lex } from '../../grammar/lexer.js';
import { MAX_LIST } from '../../grammar/delimiters.js';
import { MAX_SOURCE_CHARS, parseFile } from '../../grammar/parse.js';
import { lineCol, makeSource, spanText } from '../../grammar/source.js';

function parse(text: string): FileNode {
  const r = parseFile(makeSource('t.rlp', text));
  expect(r.problems).toEqual([]);
  return r.ast!;
}

function exprOf(text: string): Expr {
  const f = parse(`pipeline p { loss { x = ${text} } }`);
  const m = (f.items[0] as PipelineDecl).blocks[0]!.members[0]!;
  if (m.kind !== 'Binding' || m.value === null) throw new Error('no binding');
  return m.value;
}

function show(e: Expr): string {
  switch (e.kind) {
    case 'Binary':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'Unary':
      return `(${e.op} ${show(e.operand)})`;
    case 'Number':
      return String(e.value);
    case 'Name':
      return e.name;
    case 'Call':
      return `${e.callee.name}(${e.args.map((a) => (a.kind === 'Over' ? `over ${a.dims.map((d) => d.name).join(',')}` : a.kind === 'Where' ? `where ${show(a.value)}` : a.kind === 'Keyword' ? `${a.name.name}=${show(a.value)}` : show(a.value))).join(', ')})`;
    case 'Index':
      return `${show(e.target)}[${e.dim.name}=${show(e.index)}]`;
    default:
      return e.kind;
  }
}

describe('the lexer', () => {
  it('reads numbers in every documented form', () => {
    const toks = lex(makeSource('t', '12 0.5 .5 1e-6 2.5E3 1e+2')).tokens;
    expect(toks.map((t) => Number(t.image))).toEqual([12, 0.5, 0.5, 1e-6, 2500, 100]);
  });

  it('skips comments and keeps doc comments aside', () => {
    const r = lex(makeSource('t', '# a\n// b\n/* c\n d */ x /// doc'));
    expect(r.tokens.map((t) => t.image)).toEqual(['x']);
    expect(r.docs.map((t) => t.image)).toEqual(['/// doc']);
  });

  it('does not take a keyword prefix of a name for the keyword', () => {
    expect(lex(makeSource('t', 'overall whereas notable')).tokens.map((t) => t.tokenType.name)).toEqual(['Identifier', 'Identifier', 'Identifier']);
  });
});

describe('the parser', () => {
  it('gives arithmetic the usual precedence and associativity', () => {
    expect(show(exprOf('a - b - c'))).toBe('((a - b) - c)');
    expect(show(exprOf('a + b * c'))).toBe('(a + (b * c))');
    expect(show(exprOf('-a ** 2'))).toBe('(- (a ** 2))');
    expect(show(exprOf('a ** b ** c'))).toBe('(a ** (b ** c))');
    expect(show(exprOf('a < b and not c or d'))).toBe('(((a < b) and (not c)) or d)');
  });

  it('parses calls with keywords, over, where and indexing', () => {
    expect(show(exprOf('mean(x * 2, over [G, T], where mask)'))).toBe('mean((x * 2), over G,T, where mask)');
    expect(show(exprOf('rollout(n = 4, temperature = 0.7)'))).toBe('rollout(n=4, temperature=0.7)');
    expect(show(exprOf('logp[G=0] - logp[G=1]'))).toBe('(logp[G=0] - logp[G=1])');
  });

  it('needs no separators between statements but accepts semicolons', () => {
    const f = parse('pipeline p { loss { a = 1 b = a; c = b\n minimize c } }');
    expect((f.items[0] as PipelineDecl).blocks[0]!.members.map((m) => m.kind)).toEqual(['Binding', 'Binding', 'Binding', 'Minimize']);
  });

  it('gives every node the span of its text', () => {
    const src = 'pipeline p { loss { x = exp(logp - old_logp) * 2 } }';
    const e = exprOf('exp(logp - old_logp) * 2') as BinaryExpr;
    const f = makeSource('t.rlp', src);
    expect(spanText({ ...e.span, file: f })).toBe('exp(logp - old_logp) * 2');
    expect(spanText({ ...e.opSpan, file: f })).toBe('*');
    expect(spanText({ ...e.left.span, file: f })).toBe('exp(logp - old_logp)');
    const neg = exprOf('-a') as UnaryExpr;
    expect(neg.span.end - neg.span.start).toBe(2);
  });

  it('attaches doc comments and doc strings', () => {
    const f = parse('/// first\n/// second\npipeline p {\n params { beta: float = 0.1 "the weight" }\n}');
    const p = f.items[0] as PipelineDecl;
    expect(p.doc).toBe('first\nsecond');
    const b = p.blocks[0]!.members[0]!;
    expect(b.kind === 'Binding' && b.docString).toBe('the weight');
  });

  it('reports an error at end of file at the last position', () => {
    const file = makeSource('t.rlp', 'pipeline p { loss { x = 1 } }\npipeline');
    const r = parseFile(file);
    expect(r.ast).toBeNull();
    expect(r.problems[0]!.code).toBe('RLP1001');
    expect(r.problems[0]!.args['found']).toBe('end of file');
    expect(lineCol(file, r.problems[0]!.span.start)).toEqual({ line: 2, column: 9 });
  });

  it('points at the offending token inside a statement', () => {
    const file = makeSource('t.rlp', 'pipeline p { loss { x = 1 + } }');
    const r = parseFile(file);
    expect(r.problems[0]!.args).toEqual({ expected: 'an expression', found: '`}`' });
    expect(lineCol(file, r.problems[0]!.span.start)).toEqual({ line: 1, column: 29 });
  });

  it('recovers to report several syntax errors in one file', () => {
    const r = parseFile(makeSource('t.rlp', 'pipeline p { loss { x = 1 + } }\npipeline q { loss { y = * 2 } }'));
    expect(r.problems.length).toBeGreaterThanOrEqual(2);
  });
});

describe('inputs bounded before they are read into tokens (issue 10, item 12)', () => {
  it('refuses a file over MAX_SOURCE_CHARS before lexing it, pointing where the limit is crossed', () => {
    const text = `# ${'c'.repeat(MAX_SOURCE_CHARS)}\npipeline p { loss { minimize 1 } }\n`;
    const r = parseFile(makeSource('t.rlp', text));
    expect(r.ast).toBeNull();
    expect(r.problems.map((p) => [p.code, p.span.start, p.args])).toEqual([['RLP0006', MAX_SOURCE_CHARS, { limit: MAX_SOURCE_CHARS, size: text.length }]]);
    // At the limit, the same file is read.
    const at = `# ${'c'.repeat(MAX_SOURCE_CHARS - 40)}\npipeline p { loss { minimize 1 } }\n`;
    expect(at.length).toBeLessThanOrEqual(MAX_SOURCE_CHARS);
    expect(parseFile(makeSource('t.rlp', at)).problems).toEqual([]);
  });

  it('refuses a bracket of more than MAX_LIST items before parsing (call arguments, dims), at the first comma past it', () => {
    for (const [open, close, item] of [['max(', ')', '1.0'], ['mean(logp, over [', '])', 'B']] as const) {
      const ok = parseFile(makeSource('t.rlp', `pipeline p { loss { minimize ${open}${Array(MAX_LIST).fill(item).join(', ')}${close} } }`));
      expect(ok.problems).toEqual([]);
      const text = `pipeline p { loss { minimize ${open}${Array(MAX_LIST + 1).fill(item).join(', ')}${close} } }`;
      const r = parseFile(makeSource('t.rlp', text));
      const commas = [...text.matchAll(/,/g)].map((m) => m.index);
      const at = commas[open.includes('over') ? MAX_LIST : MAX_LIST - 1];
      expect(r.problems.map((p) => [p.code, p.span.start])).toEqual([['RLP1009', at]]);
    }
  });
});
