#!/usr/bin/env node
// The `rlp` command: runs the bundled CLI, building it first if this checkout has not yet.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../../dist/rlp.mjs', import.meta.url);
// dist/rlp-chevrotain.cjs (parsers of files with problems) comes from the same build.
if (!existsSync(fileURLToPath(bundle)) || !existsSync(fileURLToPath(new URL('../../dist/rlp-chevrotain.cjs', import.meta.url)))) {
  execFileSync(process.execPath, [fileURLToPath(new URL('./build.mjs', import.meta.url))], { stdio: 'inherit' });
}
await import(bundle.href);
