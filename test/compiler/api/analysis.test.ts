import { describe, expect, it } from 'vitest';
import { occurrenceAt } from '../../../compiler/api/analysis.js';
import { formatTypeFull } from '../../../compiler/types.js';
import { at, fixture, PARENT } from '../../helpers/api-fixture.js';

describe('analyze', () => {
  const a = fixture();

  it('checks the fixture without errors and records the type of every binding and state variable', () => {
    expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const base = a.module('/w/base.rlp')!.ast!.items.find((i) => i.kind === 'Pipeline')!;
    const types = a.types(base as never)!;
    expect(formatTypeFull(types.get('A')!)).toBe('f32[B,G]');
    expect(formatTypeFull(types.get('per_token')!)).toBe('f32[B,G,T]@mask');
    expect(formatTypeFull(types.get('seen')!)).toBe('f32');
  });

  it('puts the declared dims after the standard ones', () => {
    expect(a.dims).toEqual(['B', 'G', 'T', 'V', 'K']);
  });

  it('finds the name under the cursor, and the one the cursor has just passed', () => {
    expect(occurrenceAt(a, '/w/base.rlp', at(PARENT, 'ratio =', 0, 2))?.symbol.kind).toBe('member');
    expect(occurrenceAt(a, '/w/base.rlp', at(PARENT, 'ratio =', 0, 5))?.symbol.kind).toBe('member');
    expect(occurrenceAt(a, '/w/base.rlp', at(PARENT, 'ratio =', 0, 6))).toBeNull();
  });

  it('maps a span\'s file back to its module', () => {
    const o = occurrenceAt(a, '/w/base.rlp', at(PARENT, 'twice(logp)'))!;
    expect(a.moduleOfFile(o.span.file)?.path).toBe('/w/base.rlp');
  });
});
