/** What an import may reach: only `.rlp` files, and `std/` only inside the standard library. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fsHost } from '../../../compiler/bind/host.js';
import { compileFiles } from '../../../compiler/compile.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-imports-'));
mkdirSync(join(dir, 'secret'), { recursive: true });
writeFileSync(join(dir, 'secret', 'secret.env'), 'API_KEY=hunter2\n');
writeFileSync(join(dir, 'secret', 'notes.rlp.txt'), 'TOKEN=abc\n');
writeFileSync(join(dir, 'ok.rlp'), 'fn twice(x) = 2.0 * x\n');

function importing(spec: string) {
  const f = join(dir, `main-${Math.random().toString(36).slice(2)}.rlp`);
  writeFileSync(f, `import "${spec}"\n\npipeline p {\n  loss { minimize 1.0 }\n}\n`);
  const r = compileFiles([f], { host: fsHost(dir) });
  return r.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n');
}

describe('imports', () => {
  it('refuse a file that is not .rlp, without reading or echoing it', () => {
    for (const spec of [join(dir, 'secret', 'secret.env'), './secret/secret.env', './secret/notes.rlp.txt']) {
      const out = importing(spec);
      expect(out).toMatch(/RLP2020: .*only \.rlp files can be imported/);
      expect(out).not.toMatch(/API_KEY|hunter2|TOKEN/);
    }
  });

  it('resolve std/ inside the standard library only', () => {
    for (const spec of ['std/../README.md', 'std/../package.json', 'std/../../etc/passwd', 'std/../test/cases/_lib/x']) {
      const out = importing(spec);
      expect(out).toMatch(/RLP2020: /);
      expect(out).not.toMatch(/RLP1|RLP0/);
    }
    expect(importing('std/../test/cases/cycle-self')).toMatch(/RLP2020: .*outside the standard library/);
  });

  it('still import .rlp files by relative path and the standard library by name', () => {
    expect(importing('./ok')).toBe('');
    expect(importing('./ok.rlp')).toBe('');
    expect(importing('std/grpo')).toBe('');
  });
});
