import { describe, expect, it } from 'vitest';
import { cursorContext } from '../../../compiler/api/context.js';

const end = (text: string) => cursorContext(text, text.length);

describe('cursorContext', () => {
  it('knows the place from braces, even in text that does not parse', () => {
    expect(end('import "std/prelude"\n').place).toEqual({ kind: 'top' });
    expect(end('pipeline p extends q {\n  ').place).toEqual({ kind: 'pipeline', pipeline: 'p' });
    expect(end('pipeline p {\n  loss {\n    x = mean(').place).toEqual({ kind: 'block', pipeline: 'p', block: 'loss' });
    expect(end('pipeline p { loss { x = 1 } }\n').place).toEqual({ kind: 'top' });
    expect(end('fn f(a, b: f32[B]) {\n  ').place).toEqual({ kind: 'fn', fn: 'f', params: ['a', 'b'] });
  });

  it('knows when a dimension, a type or an import path is expected', () => {
    expect(end('x = mean(r, over ').expectsDim).toBe(true);
    expect(end('x = mean(r, over [B, G').expectsDim).toBe(true);
    expect(end('x = r[').expectsDim).toBe(true);
    expect(end('x = mean(r, ').expectsDim).toBe(false);
    expect(end('params { beta: ').expectsType).toBe(true);
    expect(end('import "std/gr').importPrefix).toEqual({ text: 'std/gr', start: 8 });
  });

  it('finds the call, the argument index and the keyword typed', () => {
    expect(end('x = clip(r, 0').call).toEqual({ callee: 'clip', argIndex: 1, keyword: null });
    expect(end('x = mean(f(a, b), over G').call).toEqual({ callee: 'mean', argIndex: 1, keyword: 'over' });
    expect(end('rollout(n = 4, temperature = ').call).toEqual({ callee: 'rollout', argIndex: 1, keyword: 'temperature' });
    expect(end('x = a + b').call).toBeNull();
  });

  it('starts the word being typed at its first letter', () => {
    expect(end('x = rati').wordStart).toBe(4);
  });
});
