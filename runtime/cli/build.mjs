// Bundle the CLI into one ES module (dist/rlp.mjs): fast cold start, no TypeScript at run time.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

await build({
  entryPoints: [join(root, 'runtime/cli/entry.ts')],
  outfile: join(root, 'dist/rlp.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __rlpCreateRequire } from 'node:module'; const require = __rlpCreateRequire(import.meta.url);" },
});
