/**
 * Robustness: at least 10,000 random and mutated programs go through the whole front end. The
 * compiler must never throw, never hang, and every diagnostic must have a span inside its file.
 * Count-based: no test of the suite reads a clock.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryHost } from '../../compiler/bind/host.js';
import { elaborationWork, MAX_CALL_DEPTH, MAX_ELABORATION_WORK, MAX_SUGGESTIONS } from '../../compiler/check/elaborate.js';
import { compileFiles } from '../../compiler/compile.js';
import type { Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { renderHuman } from '../../compiler/diagnostics/render.js';

const STD: Record<string, string> = Object.fromEntries(
  readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).map((f) => [`/stdlib/${f}`, readFileSync(`stdlib/${f}`, 'utf8')]),
);
const SOURCES = [...Object.values(STD), ...readdirSync('pipelines').filter((f) => f.endsWith('.rlp')).map((f) => readFileSync(`pipelines/${f}`, 'utf8'))];
const TOKEN_POOL = [
  '{', '}', '(', ')', '[', ']', ',', ';', ':', '=', '==', '+', '-', '*', '/', '**', '<', '>=', '!=',
  'pipeline', 'extends', 'fn', 'import', 'dim', 'minimize', 'over', 'where', 'and', 'or', 'not', 'true',
  'params', 'state', 'update', 'loss', 'reward', 'advantage', 'sample', 'mean', 'sum', 'std', 'exp',
  'logp', 'mask', 'A', 'G', 'T', 'B', 'x', '"str', '"s"', '/*', '*/', '///', '#', '1e', '1e-6', '0', '3.5',
  '$', '@', '\u0000', '\u00e9', '\n', '\t', '\\', 'f32[B,G,T]', 'std/prelude', '"std/grpo"',
];

let runs = 0;

/** Compile `text` as /work/x.rlp beside the real stdlib; check the invariants. */
function compileChecked(text: string): void {
  runs++;
  const host = memoryHost({ ...STD, '/work/x.rlp': text });
  const r = compileFiles(['/work/x.rlp'], { host });
  for (const d of r.diagnostics) checkDiagnostic(d);
}

function checkDiagnostic(d: Diagnostic): void {
  expect(d.code).not.toBe('RLP9001');
  const len = d.span.file.text.length;
  expect(d.span.start).toBeGreaterThanOrEqual(0);
  expect(d.span.end).toBeGreaterThanOrEqual(d.span.start);
  expect(d.span.end).toBeLessThanOrEqual(len);
  for (const l of d.labels) expect(l.span.end).toBeLessThanOrEqual(l.span.file.text.length);
  expect(renderHuman(d, false).length).toBeGreaterThan(0);
}

function tokenize(s: string): string[] {
  return s.match(/\s+|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?(?:e-?\d+)?|"[^"\n]*"|\/\/\/[^\n]*|#[^\n]*|\*\*|[=!<>]=|./g) ?? [];
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), token: fc.constantFrom(...TOKEN_POOL) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), token: fc.constantFrom(...TOKEN_POOL) }),
);

function mutate(src: string, ms: readonly fc.Arbitrary<never>[] | { kind: string; at: number; with?: number; token?: string }[]): string {
  const toks = tokenize(src);
  for (const m of ms as { kind: string; at: number; with?: number; token?: string }[]) {
    if (toks.length === 0) break;
    const i = m.at % toks.length;
    if (m.kind === 'delete') toks.splice(i, 1);
    else if (m.kind === 'duplicate') toks.splice(i, 0, toks[i]!);
    else if (m.kind === 'swap') {
      const j = (m.with ?? 0) % toks.length;
      [toks[i], toks[j]] = [toks[j]!, toks[i]!];
    } else if (m.kind === 'replace') toks[i] = m.token!;
    else toks.splice(i, 0, m.token!);
  }
  return toks.join('');
}

describe('the compiler on random and mutated programs', () => {
  it('survives token-level mutations of the stdlib and example files (6,000 programs)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SOURCES), fc.array(mutation, { minLength: 1, maxLength: 6 }), (src, ms) => {
        compileChecked(mutate(src, ms));
      }),
      { numRuns: 6000, seed: 20261128 },
    );
  });

  it('survives random text and random bytes (3,000 programs)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
          fc.array(fc.constantFrom(...TOKEN_POOL), { maxLength: 80 }).map((ts) => ts.join(' ')),
        ),
        (text) => compileChecked(text),
      ),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('survives deep nesting and very long lines (1,000 programs)', () => {
    const shapes = [
      (n: number) => `pipeline p { loss { minimize ${'('.repeat(n)}1${')'.repeat(n)} } }`,
      (n: number) => `pipeline p { loss { minimize ${'('.repeat(n)}1 } }`,
      (n: number) => `pipeline p { loss { minimize ${'-'.repeat(n)}1 } }`,
      (n: number) => `pipeline p { loss { minimize ${'not '.repeat(n)}true } }`,
      (n: number) => `pipeline p { loss { minimize ${'2 ** '.repeat(n)}1 } }`,
      (n: number) => `pipeline p { loss { minimize ${'1 + '.repeat(n)}1 } }`,
      (n: number) => `pipeline p { loss { minimize ${'exp('.repeat(n)}1${')'.repeat(n)} } }`,
      (n: number) => `pipeline p { loss { x = ${'['.repeat(n)} } }`,
      (n: number) => '{'.repeat(n),
      (n: number) => `pipeline p { loss { minimize ${'a'.repeat(n * 50)} } }`,
      (n: number) => `pipeline p { params { s: string = "${'x'.repeat(n * 50)}" } }`,
      (n: number) => `# ${'c'.repeat(n * 50)}\npipeline p { loss { minimize 1 } }`,
    ];
    fc.assert(
      fc.property(fc.nat({ max: shapes.length - 1 }), fc.integer({ min: 1, max: 12000 }), (k, n) => compileChecked(shapes[k]!(n))),
      { numRuns: 1000, seed: 99 },
    );
    // The extremes named in the issue, always: 10,000 parentheses and a 1 MB line.
    compileChecked(`pipeline p { loss { minimize ${'('.repeat(10000)}1${')'.repeat(10000)} } }`);
    compileChecked(`pipeline p { loss { minimize ${'1+'.repeat(500000)}1 } }`);
  });

  it('ends every expansion bomb and very long binding chain within a counted budget of work', () => {
    // Counted, not timed: elaboration work is the number of expressions checked, each function
    // body once per distinct argument list.
    const bomb = (n: number, distinct: boolean, arity: number): string => {
      const fns = ['fn e0(x) = x * 2.0'];
      for (let i = 1; i <= n; i++) {
        const calls = Array.from({ length: arity }, (_, k) => `e${i - 1}(${distinct ? `x * ${k + 2}.0` : 'x'})`);
        fns.push(`fn e${i}(x) = ${calls.join(' + ')}`);
      }
      return fns.join('\n') + `\npipeline p {\n  loss { minimize float(e${n}(1.0)) }\n}\n`;
    };
    const chain = (n: number, width: number): string => {
      const b = ['b0 = 1.0'];
      for (let i = 1; i < n; i++) b.push(`b${i} = ${Array.from({ length: width }, (_, k) => `b${Math.max(0, i - 1 - k)}`).join(' + ')}`);
      return `pipeline p {\n  loss {\n${b.join('\n')}\n    minimize float(b${n - 1})\n  }\n}\n`;
    };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ kind: fc.constant('bomb' as const), n: fc.integer({ min: 1, max: 60 }), distinct: fc.boolean(), arity: fc.integer({ min: 2, max: 4 }) }),
          fc.record({ kind: fc.constant('chain' as const), n: fc.integer({ min: 1, max: 3000 }), width: fc.integer({ min: 1, max: 3 }) }),
        ),
        (g) => {
          const text = g.kind === 'bomb' ? bomb(g.n, g.distinct, g.arity) : chain(g.n, g.width);
          const before = elaborationWork();
          const r = compileFiles(['/work/x.rlp'], { host: memoryHost({ ...STD, '/work/x.rlp': text }) });
          runs++;
          const work = elaborationWork() - before;
          expect(work).toBeLessThanOrEqual(MAX_ELABORATION_WORK + 1);
          for (const d of r.diagnostics) checkDiagnostic(d);
          const codes = r.diagnostics.map((d) => d.code);
          if (g.kind === 'bomb' && !g.distinct) {
            // The same argument at every call: one expansion per level, and no error.
            expect(codes).toEqual([]);
            expect(work).toBeLessThanOrEqual(4 * g.arity * (g.n + 2));
          }
          if (g.kind === 'bomb' && g.distinct && g.arity ** g.n > 10 * MAX_ELABORATION_WORK) expect(codes).toEqual(['RLP4020']);
          if (g.kind === 'chain') {
            expect(codes).toEqual([]);
            expect(work).toBeLessThanOrEqual((2 * g.width + 2) * g.n + 10);
          }
        },
      ),
      { numRuns: 16, seed: 10 },
    );
  });

  it('ends very many bindings in any order, long binding cycles and deep call chains within a counted budget, without exhausting the stack', () => {
    // Written backwards or shuffled, bindings elaborate in dependency order (no recursion from one
    // into another: 1,000 backwards threw RangeError before); calls nest at most MAX_CALL_DEPTH.
    const program = (bindings: string[], last: string): string => `pipeline p {\n  loss {\n${bindings.join('\n')}\n    minimize float(${last})\n  }\n}\n`;
    const backward = (n: number, width: number): string => program(
      Array.from({ length: n }, (_, i) => i === n - 1 ? `b${i} = 1.0` : `b${i} = ${Array.from({ length: width }, (_, k) => `b${Math.min(n - 1, i + 1 + k)}`).join(' + ')}`), 'b0');
    const shuffled = (n: number, seed: number): string => {
      const lines = Array.from({ length: n }, (_, i) => i === 0 ? 'b0 = 2.0' : `b${i} = b${(i * 7919 + seed) % i} * b${(i * 104729 + 3 * seed) % i}`);
      let x = seed + 1;
      for (let i = n - 1; i > 0; i--) {
        x = (x * 1103515245 + 12345) % 2147483648;
        const j = x % (i + 1);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      }
      return program(lines, `b${n - 1}`);
    };
    const cycle = (n: number): string => program(Array.from({ length: n }, (_, i) => `b${i} = b${(i + 1) % n} + 1.0`), 'b0');
    const calls = (n: number): string => ['fn f0(x) = x * 2.0', ...Array.from({ length: n - 1 }, (_, i) => `fn f${i + 1}(x) = f${i}(x) + 1.0`)].join('\n')
      + `\npipeline p {\n  loss { minimize float(f${n - 1}(1.0)) }\n}\n`;
    const check = (g: { kind: 'backward' | 'shuffled' | 'cycle' | 'calls'; n: number; k: number }): void => {
      const text = g.kind === 'backward' ? backward(g.n, g.k) : g.kind === 'shuffled' ? shuffled(g.n, g.k) : g.kind === 'cycle' ? cycle(g.n) : calls(g.n);
      const before = elaborationWork();
      const r = compileFiles(['/work/x.rlp'], { host: memoryHost({ ...STD, '/work/x.rlp': text }) });
      runs++;
      const work = elaborationWork() - before;
      for (const d of r.diagnostics) checkDiagnostic(d);
      const codes = r.diagnostics.map((d) => d.code);
      if (g.kind === 'backward') expect([codes, work <= (2 * g.k + 2) * g.n + 10]).toEqual([[], true]);
      if (g.kind === 'shuffled') expect([codes, work <= 4 * g.n + 10]).toEqual([[], true]);
      if (g.kind === 'cycle') {
        expect(codes).toEqual(['RLP2010']);
        expect(work).toBeLessThanOrEqual(3 * g.n + 10);
        const names = g.n <= 12 ? g.n + 1 : 10;
        expect(r.diagnostics[0]!.message.match(/`b\d+`/g)!.length).toBe(names);
      }
      if (g.kind === 'calls') {
        expect(codes).toEqual(g.n > MAX_CALL_DEPTH ? ['RLP4021'] : []);
        expect(work).toBeLessThanOrEqual(4 * Math.min(g.n, MAX_CALL_DEPTH + 1) + 10);
      }
    };
    fc.assert(
      fc.property(
        fc.record({ kind: fc.constantFrom('backward' as const, 'shuffled' as const, 'cycle' as const, 'calls' as const), n: fc.integer({ min: 1, max: 2000 }), k: fc.integer({ min: 1, max: 3 }) }),
        (g) => check(g),
      ),
      { numRuns: 8, seed: 1012 },
    );
    // The extremes, always: past the depth where the recursive versions overflowed the stack.
    for (const kind of ['backward', 'shuffled', 'cycle', 'calls'] as const) check({ kind, n: 3000, k: 2 });
  });

  it('suggests a spelling for at most MAX_SUGGESTIONS unknown names of a pipeline (each suggestion scans every visible name)', () => {
    const n = MAX_SUGGESTIONS + 50;
    const b = Array.from({ length: n }, (_, i) => `value${i} = valeu${i} + 1.0`);
    const text = `pipeline p {\n  loss {\n${b.join('\n')}\n    minimize float(value0)\n  }\n}\n`;
    const r = compileFiles(['/work/x.rlp'], { host: memoryHost({ ...STD, '/work/x.rlp': text }) });
    runs++;
    expect(r.diagnostics.map((d) => d.code)).toEqual(Array(n).fill('RLP2008'));
    const helped = r.diagnostics.filter((d) => d.help !== null);
    expect(helped.length).toBe(MAX_SUGGESTIONS);
    expect(helped[0]!.help).toBe('did you mean `value0`?');
  });

  it('ran at least 10,000 programs', () => {
    expect(runs).toBeGreaterThanOrEqual(10000);
  });

  it('rejects the 1 MB one-line chain before parsing it, with a small frame', () => {
    const host = memoryHost({ ...STD, '/work/x.rlp': `pipeline p { loss { minimize ${'1+'.repeat(500000)}1 } }` });
    const r = compileFiles(['/work/x.rlp'], { host });
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([['RLP1008', 'expression too long: more than 1000 operators in one chain']]);
    expect(renderHuman(r.diagnostics[0]!, false).length).toBeLessThan(600);
  });

  it('accepts a flat sum of 251 terms: a chain is not nesting', () => {
    const host = memoryHost({ ...STD, '/work/x.rlp': `pipeline p { loss { minimize mean(reward, over [B, G]) * (${Array(251).fill('1').join(' + ')}) } }` });
    expect(compileFiles(['/work/x.rlp'], { host }).diagnostics).toEqual([]);
  });

  it('leaves wall-clock time out of every test of the suite (timings belong in npm run bench)', () => {
    const clock = new RegExp(['performance' + '\\.now', 'Date' + '\\.now', 'process\\.hr' + 'time'].join('|'));
    const files = readdirSync('test', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(30);
    expect(files.filter((f) => clock.test(readFileSync(`test/${f}`, 'utf8')))).toEqual([]);
  });
});
