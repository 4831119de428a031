import { describe, expect, it } from 'vitest';
import { signatureAt } from '../../../compiler/api/signature.js';
import { fixture } from '../../helpers/api-fixture.js';

describe('signatureAt', () => {
  const a = fixture();
  const sig = (text: string) => signatureAt(a, '/w/base.rlp', text, text.length);

  it('shows both forms of a name that is elementwise and a reduction, picking by `over`', () => {
    const plain = sig('x = max(a, ')!;
    expect(plain.signatures.map((s) => s.label)).toEqual(['max(x, y)', 'max(x, over DIMS, where MASK)']);
    expect([plain.activeSignature, plain.activeParameter]).toEqual([0, 1]);
    const red = sig('x = max(a, over ')!;
    expect([red.activeSignature, red.activeParameter]).toEqual([1, 1]);
  });

  it('shows a function from the file\'s scope', () => {
    expect(sig('x = twice(')?.signatures[0]?.label).toBe('twice(x)');
  });

  it('marks a keyword argument active by its name', () => {
    const s = sig('rollout(n = 4, max_tokens = ')!;
    expect(s.signatures[0]!.params[s.activeParameter]).toBe('max_tokens = 64');
  });

  it('is null outside calls and for unknown callees', () => {
    expect(sig('x = a + ')).toBeNull();
    expect(sig('x = nothing(')).toBeNull();
  });
});
