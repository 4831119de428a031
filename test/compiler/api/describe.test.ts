import { describe, expect, it } from 'vitest';
import { declarationText, fnSignature, levelPhrase, opSignature, opsNamed, pipelineHeader } from '../../../compiler/api/describe.js';
import { parseFile } from '../../../grammar/parse.js';
import { makeSource } from '../../../grammar/source.js';
import { tensor } from '../../../compiler/types.js';

const ast = parseFile(makeSource('x.rlp', 'fn f(a, b: f32[B]): f32[B] = a * b\npipeline p extends q {\n  params {\n    beta: float = 0.1   "the doc"\n    name: string = "x"\n  }\n}\n')).ast!;

describe('describe', () => {
  it('writes a declaration without its doc string, and keeps a string default', () => {
    const pd = ast.items[1]!;
    if (pd.kind !== 'Pipeline') throw new Error('fixture');
    const [beta, name] = pd.blocks[0]!.members;
    expect(declarationText(beta as never)).toBe('beta: float = 0.1');
    expect(declarationText(name as never)).toBe('name: string = "x"');
    expect(pipelineHeader(pd)).toBe('pipeline p extends q');
  });

  it('writes signatures of functions and ops, defaults quoted when strings', () => {
    const fd = ast.items[0]!;
    if (fd.kind !== 'Fn') throw new Error('fixture');
    expect(fnSignature(fd)).toBe('fn f(a, b: f32[B]): f32[B]');
    expect(opsNamed('mean').map(opSignature)).toEqual(['mean(x, over DIMS, where MASK)']);
    expect(opSignature(opsNamed('rollout')[0]!)).toContain('stop = ""');
  });

  it('names the level of a type', () => {
    expect(levelPhrase(tensor('f32', ['B', 'G', 'T']))).toBe('token level');
    expect(levelPhrase(tensor('f32', []))).toBe('batch level');
    expect(levelPhrase({ kind: 'string' })).toBe('not a tensor');
  });
});
