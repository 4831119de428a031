// Bundle the CLI into one ES module (dist/rlp.mjs): fast cold start, no TypeScript at run time.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

await build({
  entryPoints: [join(root, 'runtime/cli/entry.ts')],
  outdir: join(root, 'dist'),
  entryNames: 'rlp',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  mainFields: ['module', 'main'],
  bundle: true,
  // TF.js, Dawn and msgpackr stay in node_modules: loaded only by the commands that compute,
  // they find their own .wasm/.node files there. tfjs-node is optional and may be absent.
  // Graphviz (@viz-js/viz, WebAssembly inside) and uPlot (inlined into reports as text) too.
  external: ['@tensorflow/*', 'webgpu', 'msgpackr', '@viz-js/viz', 'uplot'],
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __rlpCreateRequire } from 'node:module'; const require = __rlpCreateRequire(import.meta.url);" },
});
