/** Golden files: compare with the stored text, or rewrite it when UPDATE_GOLDEN=1. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

/** Assert `actual` equals the golden file (or write it under UPDATE_GOLDEN=1). */
export function expectGolden(path: string, actual: string): void {
  if (process.env['UPDATE_GOLDEN'] === '1') {
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`missing golden file ${path}; run \`npm run golden:update\` and review the diff`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}
