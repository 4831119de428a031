/**
 * Golden diagnostics: every `test/cases/*.rlp` is an invalid (or warned-about) program and its
 * `.expected` file holds the one-line diagnostics (file:line:col: severity[CODE]: message), each
 * followed by its help line (did-you-mean, valid choices) when it has one.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFiles } from '../../compiler/compile.js';
import { renderShort } from '../../compiler/diagnostics/render.js';
import { expectGolden } from '../helpers/golden.js';

const dir = 'test/cases';
const cases = readdirSync(dir).filter((f) => f.endsWith('.rlp')).sort();

describe('golden diagnostics', () => {
  it('holds at least 40 invalid programs', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  for (const c of cases) {
    it(`${c} reports its expected diagnostics`, () => {
      const r = compileFiles([join(dir, c)]);
      expect(r.diagnostics.length).toBeGreaterThan(0);
      expect(r.diagnostics.some((d) => d.severity === 'error')).toBe(true);
      const text = r.diagnostics.map((d) => renderShort(d) + (d.help !== null ? `\n  help: ${d.help}` : '')).join('\n') + '\n';
      expectGolden(join(dir, c.replace(/\.rlp$/, '.expected')), text);
    });
  }
});
