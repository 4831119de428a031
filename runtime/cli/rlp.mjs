#!/usr/bin/env node
// The `rlp` command: runs the bundled CLI, building it first if this checkout has not yet.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../../dist/rlp.mjs', import.meta.url);
// dist/rlp-chevrotain.cjs (parsers of files with problems) comes from the same build.
if (!existsSync(fileURLToPath(bundle)) || !existsSync(fileURLToPath(new URL('../../dist/rlp-chevrotain.cjs', import.meta.url)))) {
  // node:child_process only here: loading it costs a cold start's worth of milliseconds.
  const { execFileSync } = await import('node:child_process');
  execFileSync(process.execPath, [fileURLToPath(new URL('./build.mjs', import.meta.url))], { stdio: 'inherit' });
}
await import(bundle.href);
