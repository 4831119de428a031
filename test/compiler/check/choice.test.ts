/** Choice params: parsed, checked, picked at compile time (default or `--set`), folded out of the IR. */
import { describe, expect, it } from 'vitest';
import { memoryHost } from '../../../compiler/bind/host.js';
import { compileFiles } from '../../../compiler/compile.js';
import { parseFile } from '../../../grammar/parse.js';
import { makeSource, span } from '../../../grammar/source.js';
import { describePipeline } from '../../../runtime/cli/commands/explain.js';
import { interpretOutputs } from '../../../runtime/reference/interpreter.js';
import { named } from '../../../runtime/reference/named-array.js';
import { validateBatch } from '../../../runtime/eval/validate.js';

const TEXT = `
pipeline p {
  params {
    agg: choice("token-mean", "token-sum", "seq-sum") = "token-mean" "how to aggregate"
  }
  loss {
    total = sum(logp, over [B, G, T], where mask)
    tokens = sum(mask, over [B, G, T])
    minimize select(agg == "token-mean", total / tokens, select(agg != "seq-sum", total, sum(logp[T=0], over [B, G])))
  }
}`;

function compile(set: Record<string, string> = {}, text = TEXT) {
  return compileFiles(['/w/x.rlp'], { host: memoryHost({ '/w/x.rlp': text }), set });
}

const feed = {
  inputs: {
    logp: named(['B', 'G', 'T'], [1, 2, 3], [-1, -2, -3, -1, -1, -1]),
    mask: named(['B', 'G', 'T'], [1, 2, 3], [1, 1, 0, 1, 1, 1]),
  },
};

describe('choice params', () => {
  it('parse into a type with the listed strings', () => {
    const r = parseFile(makeSource('/w/x.rlp', TEXT));
    const pipe = r.ast!.items[0]!;
    if (pipe.kind !== 'Pipeline') throw new Error('expected a pipeline');
    const m = pipe.blocks[0]!.members[0]!;
    if (m.kind !== 'Binding') throw new Error('expected a binding');
    expect(m.type!.name.name).toBe('choice');
    expect(m.type!.choices!.map((c) => c.value)).toEqual(['token-mean', 'token-sum', 'seq-sum']);
  });

  it('take their default, and keep only the chosen branch in the optimized IR', () => {
    const r = compile();
    expect(r.diagnostics).toEqual([]);
    const p = r.pipelines[0]!;
    expect(p.ir.meta.params[0]).toMatchObject({ name: 'agg', type: 'choice', default: 'token-mean', chosen: 'token-mean' });
    expect(p.ir.ordered().some((n) => n.op === 'select')).toBe(false);
    expect(p.ir.ordered().some((n) => n.op === 'take')).toBe(false);
    expect(interpretOutputs(p.ir, feed)['loss']!.data[0]).toBeCloseTo(-6 / 5, 12);
  });

  it('take the value `--set` gives, which changes what is computed', () => {
    const sum = compile({ agg: 'token-sum' }).pipelines[0]!;
    expect(interpretOutputs(sum.ir, feed)['loss']!.data[0]).toBeCloseTo(-6, 12);
    expect(sum.ir.ordered().some((n) => n.op === 'div' || n.op === 'take')).toBe(false);
    const seq = compile({ agg: 'seq-sum' }).pipelines[0]!;
    expect(interpretOutputs(seq.ir, feed)['loss']!.data[0]).toBeCloseTo(-2, 12);
  });

  it('refuse a `--set` value that is not listed, suggesting the nearest', () => {
    const r = compile({ agg: 'token_sum' });
    expect(r.pipelines).toHaveLength(0);
    const d = r.diagnostics.find((x) => x.code === 'RLP3041')!;
    expect(d.message).toContain('`--set agg=token_sum` is not a choice of `agg`');
    expect(d.help).toBe('did you mean "token-sum"?');
  });

  it('fold `and`, `or` and `not` of comparisons', () => {
    const text = TEXT.replace('agg == "token-mean",', '(agg == "token-sum" or not (agg != "token-mean")) and true,');
    const p = compile({ agg: 'token-sum' }, text).pipelines[0]!;
    expect(p.ir.ordered().filter((n) => n.op === 'select' || n.op === 'or' || n.op === 'not')).toHaveLength(0);
    expect(interpretOutputs(p.ir, feed)['loss']!.data[0]).toBeCloseTo(-6 / 5, 12);
  });

  it('are listed with their strings by `rlp explain`', () => {
    const text = describePipeline(compile().pipelines[0]!.raw, 'x.rlp');
    expect(text).toContain('agg: choice = "token-mean"');
    expect(text).toContain('one of "token-mean", "token-sum", "seq-sum"');
  });

  it('need no runtime value: a batch with `--set agg=...` validates', () => {
    const p = compile({ agg: 'token-sum' }).pipelines[0]!;
    const entries = Object.entries(feed.inputs).map(([name, a]) => ({ name, span: span(makeSource('b.json', ''), 0, 0), tensor: { shape: [...a.shape], data: Float64Array.from(a.data) } }));
    const v = validateBatch(p.ir, entries, { set: { agg: 'token-sum' }, grad: [], allowNonfinite: false, fileSpan: span(makeSource('b.json', ''), 0, 0) });
    expect(v.diagnostics).toEqual([]);
    expect(v.valid!.params.has('agg')).toBe(false);
  });
});
