/** Helpers of the drawing model: edge types with masks, label wrapping, span display, leaf kinds. */
import { describe, expect, it } from 'vitest';
import { edgeType, formatValue, isFused, leafKind, spanInfo, stageClusters, wrap } from '../../../runtime/viz/model.js';
import { makeSource, span } from '../../../grammar/source.js';
import { tensor, ROLLOUT } from '../../../compiler/types.js';
import { node } from '../../helpers/viz-graphs.js';

describe('the drawing model', () => {
  it('writes a type with the mask it is valid under and the mask it covers', () => {
    expect(edgeType(tensor('f32', ['B', 'G', 'T'], 'mask'))).toBe('f32[B,G,T] @mask');
    expect(edgeType(tensor('f32', ['B', 'G', 'T'], null, 'mask'))).toBe('f32[B,G,T] !mask');
    expect(edgeType(tensor('i32'))).toBe('i32');
    expect(edgeType(ROLLOUT)).toBe('rollout');
  });

  it('wraps labels at spaces without losing words', () => {
    expect(wrap('a bb ccc dddd', 6)).toEqual(['a bb', 'ccc', 'dddd']);
    expect(wrap('averyveryverylongword x', 5)).toEqual(['averyveryverylongword', 'x']);
  });

  it('resolves a span to its line, column, text and whole line', () => {
    const f = makeSource('p.rlp', 'x\n  y = a + b\n');
    expect(spanInfo(span(f, 8, 13))).toEqual({ file: 'p.rlp', line: 2, column: 7, text: 'a + b', lineText: '  y = a + b' });
  });

  it('knows leaves, fused kernels, stage order and param values', () => {
    expect(leafKind(node(0, 'reward_fn', []))).toBe('reward-fn');
    expect(leafKind(node(0, 'add', []))).toBe(null);
    expect(isFused(node(0, 'fused_elementwise', []))).toBe(true);
    expect(isFused(node(0, 'mul', []))).toBe(false);
    expect(stageClusters(new Set(['loss', 'sample', 'update'])).map((c) => c.id)).toEqual(['sample', 'loss', 'update']);
    expect([formatValue('a'), formatValue(false), formatValue(1e-4)]).toEqual(['"a"', 'false', '0.0001']);
  });
});
