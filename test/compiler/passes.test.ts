/** Passes: differential tests (before vs after on random inputs) and count tests. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memoryHost } from '../../compiler/bind/host.js';
import { compileFiles } from '../../compiler/compile.js';
import { interpretOutputs } from '../../runtime/reference/interpreter.js';
import { randomFeed } from '../helpers/random-batch.js';

const files = [
  ...readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).map((f) => `stdlib/${f}`),
  ...readdirSync('pipelines').filter((f) => f.endsWith('.rlp')).map((f) => `pipelines/${f}`),
];

function compileText(text: string) {
  return compileFiles(['/w/x.rlp'], { host: memoryHost({ '/w/x.rlp': text }) });
}

describe('the default pass pipeline', () => {
  const pipelines = compileFiles(files).pipelines;

  it('compiles every stdlib and example pipeline', () => {
    expect(pipelines.map((p) => p.name)).toEqual(expect.arrayContaining(['grpo', 'dr_grpo', 'dpo', 'grpo_format_bonus', 'running_baseline']));
  });

  for (const p of pipelines) {
    it(`keeps every output of ${p.name} equal on random batches`, () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const feed = { inputs: randomFeed(p.raw, seed) };
        const before = interpretOutputs(p.raw, feed);
        const after = interpretOutputs(p.ir, feed);
        expect(Object.keys(after)).toEqual(Object.keys(before));
        for (const k of Object.keys(before)) {
          const a = Array.from(before[k]!.data);
          const b = Array.from(after[k]!.data);
          expect(b.length).toBe(a.length);
          b.forEach((v, i) => expect(v).toBeCloseTo(a[i]!, 12));
        }
      }
    });
  }
});

describe('fold-constants', () => {
  it('turns arithmetic on literals into one literal', () => {
    const r = compileText('pipeline p { advantage { A = reward * (2 * 3 + 1) - exp(0) } }');
    const p = r.pipelines[0]!;
    const consts = (g: typeof p.ir) => g.ordered().filter((n) => n.op === 'const').length;
    expect(p.raw.nodes.size).toBeGreaterThan(p.ir.nodes.size);
    expect(consts(p.ir)).toBe(2);
    expect(p.ir.ordered().filter((n) => n.op === 'exp' || n.op === 'add')).toHaveLength(0);
  });

  it('never folds params, which `--set` can change', () => {
    const r = compileText('pipeline p { params { k: float = 2 } advantage { A = reward * (k + 1) } }');
    const g = r.pipelines[0]!.ir;
    expect(g.ordered().some((n) => n.op === 'param' && n.attrs['name'] === 'k')).toBe(true);
    expect(g.ordered().some((n) => n.op === 'const' && n.attrs['value'] === 3)).toBe(false);
  });
});

describe('hash-consing (CSE by construction)', () => {
  it('builds one node for repeated subexpressions, across bindings and inlined functions', () => {
    const r = compileText('fn f(x) = exp(x)\npipeline p { loss { a = exp(logp - old_logp)\n b = f(logp - old_logp)\n minimize mean(a + b, over [B, G, T], where mask) } }');
    const g = r.pipelines[0]!.raw;
    expect(g.ordered().filter((n) => n.op === 'exp')).toHaveLength(1);
    expect(g.outputs.find((o) => o.name === 'loss.a')!.node).toBe(g.outputs.find((o) => o.name === 'loss.b')!.node);
  });

  it('keeps the spans of every merged occurrence', () => {
    const r = compileText('pipeline p { loss { a = exp(logp)\n b = exp(logp)\n minimize mean(a * b, over [B, G, T], where mask) } }');
    const exp = r.pipelines[0]!.raw.ordered().find((n) => n.op === 'exp')!;
    expect(exp.spans.map((s) => s.start)).toHaveLength(2);
  });

  it('never merges effects', () => {
    const r = compileText('pipeline p { sample { rollout(n = 2) } reward { reward = correct } }');
    const g = r.pipelines[0]!.raw;
    expect(g.ordered().filter((n) => n.effects)).toHaveLength(1);
  });
});
