/** Registry-driven checks of every op: declaration, examples, type rules, gradients. */
import { describe, expect, it } from 'vitest';
import { memoryHost } from '../../compiler/bind/host.js';
import { compileFiles } from '../../compiler/compile.js';
import { OPS, opByName, opsByDsl } from '../../compiler/ops/index.js';
import { interpretOutputs } from '../../runtime/reference/interpreter.js';
import { rng } from '../helpers/random-batch.js';

function evalDsl(expr: string): number {
  const r = compileFiles(['/w/x.rlp'], { host: memoryHost({ '/w/x.rlp': `pipeline p { loss { minimize float(${expr}) } }` }) });
  expect(r.diagnostics).toEqual([]);
  const out = interpretOutputs(r.pipelines[0]!.raw, { inputs: {} });
  return out['loss']!.data[0]!;
}

/** Points inside an op's domain (positive for log/sqrt, away from kinks). */
function samplePoint(name: string, arity: number, r: () => number): number[] {
  const xs = Array.from({ length: arity }, () => 4 * r() - 2);
  if (['log', 'sqrt', 'pow'].includes(name)) xs[0] = 0.2 + 2 * r();
  if (name === 'lgamma') xs[0] = 0.2 + 10 * r();
  if (name === 'clip') return [xs[0]!, -0.5, 0.5].map((v, i) => (i === 0 && Math.abs(Math.abs(v) - 0.5) < 0.05 ? v + 0.2 : v));
  if (name === 'select') xs[0] = r() < 0.5 ? 0 : 1;
  return xs;
}

describe('the op registry', () => {
  it('declares every op once, with a summary and a type rule', () => {
    const names = OPS.map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    for (const o of OPS) {
      expect(o.summary.length, o.name).toBeGreaterThan(5);
      expect(opByName(o.name)).toBe(o);
      expect(typeof o.infer).toBe('function');
    }
  });

  it('gives every elementwise op reference semantics and every reduction a reduce rule', () => {
    for (const o of OPS) {
      if (o.traits.includes('elementwise')) expect(o.scalar, o.name).toBeDefined();
      if (o.traits.includes('reduction')) expect(o.reduce, o.name).toBeDefined();
    }
  });

  it('resolves a DSL name to at most one elementwise op and one reduction', () => {
    for (const o of OPS) {
      if (o.dsl === null) continue;
      const c = opsByDsl(o.dsl);
      expect(c.filter((x) => x.over === 'required').length).toBeLessThanOrEqual(1);
      expect(c.filter((x) => x.over !== 'required').length).toBeLessThanOrEqual(1);
    }
  });

  for (const o of OPS.filter((x) => x.examples !== undefined)) {
    it(`${o.name}: its examples hold`, () => {
      for (const ex of o.examples!) expect(evalDsl(ex.dsl)).toBeCloseTo(ex.out, 12);
    });
  }

  for (const o of OPS.filter((x) => x.grad !== undefined && x.scalar !== undefined)) {
    it(`${o.name}: its gradient agrees with central finite differences`, () => {
      const r = rng(o.name.length * 7919);
      const differentiable = !['lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or', 'not', 'stop_gradient', 'float'].includes(o.name);
      for (let trial = 0; trial < 20; trial++) {
        const xs = samplePoint(o.name, o.inputs.length, r);
        const g = o.grad!(xs, 1);
        expect(g).toHaveLength(xs.length);
        if (!differentiable) continue;
        for (let i = 0; i < xs.length; i++) {
          if (o.name === 'select' && i === 0) continue;
          const h = 1e-6;
          const up = [...xs];
          const dn = [...xs];
          up[i]! += h;
          dn[i]! -= h;
          const fd = (o.scalar!(...up) - o.scalar!(...dn)) / (2 * h);
          expect(g[i]!, `${o.name} d/dx${i} at ${xs.join(',')}`).toBeCloseTo(fd, 4);
        }
      }
    });
  }
});

describe('op type rules in programs', () => {
  const check = (src: string) => compileFiles(['/w/x.rlp'], { host: memoryHost({ '/w/x.rlp': src }) });

  it('broadcasts a per-prompt value against per-sample and per-token values', () => {
    const r = check('pipeline p { loss { x = logp - mean(reward, over G)\n minimize mean(x, over [B, G, T], where mask) } }');
    expect(r.diagnostics).toEqual([]);
  });

  it('clears padding when a value is multiplied by its mask', () => {
    const r = check('pipeline p { loss { minimize sum(logp * mask, over [B, G, T]) } }');
    expect(r.diagnostics).toEqual([]);
  });

  it('accepts a product with the mask as a `where` mask', () => {
    const r = check('pipeline p { loss { minimize mean(logp, over [B, G, T], where mask * (logp > -1)) } }');
    expect(r.diagnostics).toEqual([]);
  });

  it('types comparisons as bool and accepts them in `and` and `select`', () => {
    const r = check('pipeline p { advantage { A = select(reward > 0 and reward < 1, reward, 0) } }');
    expect(r.diagnostics).toEqual([]);
    expect(r.pipelines[0]!.raw.ordered().find((n) => n.op === 'and')!.type).toMatchObject({ dtype: 'bool' });
  });

  it('spreads a per-sample value over tokens with expand, which makes it padded', () => {
    const r = check('pipeline p { advantage { A: f32[B,G,T] = expand(reward, over T) } loss { minimize mean(A, over [B, G, T], where mask) } }');
    expect(r.diagnostics).toEqual([]);
  });
});

describe('declared dimensions', () => {
  const check = (src: string) => compileFiles(['/w/x.rlp'], { host: memoryHost({ '/w/x.rlp': src }) });

  it('can be used in annotations, state and reductions, and broadcast by name', () => {
    const r = check('dim K "continuations per prefix"\npipeline p {\n state { v: f32[B,K] = 0 }\n advantage { A: f32[B,G,K] = reward - v\n m = mean(A, over K) }\n update { v = v }\n}\n');
    expect(r.diagnostics).toEqual([]);
    const g = r.pipelines[0]!.raw;
    expect(g.meta.dimOrder).toEqual(['B', 'G', 'T', 'V', 'K']);
    expect(g.ordered().find((n) => n.op === 'mean')!.type).toMatchObject({ dims: ['B', 'G'] });
  });
});

describe('constants on TF.js', () => {
  it('keep a float that is integral but beyond int32 (1e10, 1e30) as a float', async () => {
    const { useBackend } = await import('../../runtime/backends/index.js');
    const { runTf } = await import('../helpers/tf-run.js');
    const { named } = await import('../../runtime/reference/named-array.js');
    const { tf } = await useBackend('cpu');
    const r = compileFiles(['/w/x.rlp'], { host: memoryHost({ '/w/x.rlp': 'pipeline p { loss { y = reward * 1e30 - 1e10 } }' }) });
    const got = await runTf(tf, 'cpu', r.pipelines[0]!.ir, { reward: named(['B', 'G'], [1, 2], [0, 1]) });
    expect(got[0]).toBe(Math.fround(-1e10));
    expect(got[1]! / 1e30).toBeCloseTo(1, 5);
  });
});

describe('comparisons and logic under autodiff', () => {
  it('pass a zero gradient (TF.js has none for Less or LogicalOr)', async () => {
    const { useBackend } = await import('../../runtime/backends/index.js');
    const { gradTf } = await import('../helpers/tf-run.js');
    const { named } = await import('../../runtime/reference/named-array.js');
    const { tf } = await useBackend('cpu');
    const r = compileFiles(['/w/x.rlp'], { host: memoryHost({ '/w/x.rlp': 'pipeline p { loss { y = reward * float(stop_gradient(exp(reward)) <= 2 or reward > 5) } }' }) });
    const x = named(['B', 'G'], [1, 3], [0.1, 1, 6]);
    const g = await gradTf(tf, 'cpu', r.pipelines[0]!.ir, { reward: x }, 'reward', named(['B', 'G'], [1, 3], [1, 1, 1]));
    expect(Array.from(g)).toEqual([1, 0, 1]);
  });
});
