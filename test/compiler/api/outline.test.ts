import { describe, expect, it } from 'vitest';
import { outline, semanticTokens } from '../../../compiler/api/outline.js';
import { spanText } from '../../../grammar/source.js';
import { fixture } from '../../helpers/api-fixture.js';

describe('outline', () => {
  const a = fixture();

  it('lists dims, pipelines with their blocks and bindings', () => {
    const o = outline(a.module('/w/base.rlp')!);
    expect(o.map((e) => `${e.kind} ${e.name}`)).toEqual(['dim K', 'pipeline base']);
    expect(o[1]!.children.map((b) => `${b.name}: ${b.children.map((c) => `${c.kind} ${c.name}`).join(', ')}`)).toEqual([
      'params: param beta', 'state: state seen', 'reward: binding r', 'advantage: binding A', 'loss: binding ratio, binding per_token', 'update: binding seen',
    ]);
  });

  it('classifies names for semantic highlighting, marking declarations', () => {
    const ts = semanticTokens(a, a.module('/w/child.rlp')!).map((t) => `${spanText(t.span)}:${t.type}:${t.modifiers.join('+')}`);
    expect(ts).toEqual([
      'child:class:declaration', 'base:class:', 'advantage:keyword:', 'A:variable:declaration', 'r:variable:', 'loss:keyword:',
      'per_token:variable:declaration', 'exp:function:defaultLibrary', 'logp:variable:readonly+defaultLibrary', 'old_logp:variable:readonly+defaultLibrary', 'A:variable:',
    ]);
  });
});
