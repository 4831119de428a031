/** Every numeric param of the stdlib and the examples declares its range (bool and string params have none to declare). */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../compiler/compile.js';

const files = [
  ...readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).map((f) => join('stdlib', f)),
  ...readdirSync('pipelines').filter((f) => f.endsWith('.rlp')).map((f) => join('pipelines', f)),
];

describe('declared param ranges', () => {
  it('cover every int and float param of every stdlib pipeline and example', () => {
    const r = compileFiles(files);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.pipelines.length).toBeGreaterThan(20);
    const missing = r.pipelines.flatMap((p) =>
      p.raw.meta.params.filter((q) => (q.type === 'int' || q.type === 'float') && q.range === null).map((q) => `${p.name}.${q.name}`));
    expect(missing).toEqual([]);
  });

  it('leave only bool, string and choice params without a range', () => {
    const r = compileFiles(files);
    const kinds = new Set(r.pipelines.flatMap((p) => p.raw.meta.params.filter((q) => q.range === null).map((q) => q.type)));
    expect([...kinds].every((k) => k === 'bool' || k === 'string' || k === 'choice')).toBe(true);
  });
});
