// Bundle the CLI into one ES module (dist/rlp.mjs): fast cold start, no TypeScript at run time.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join, sep } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Chevrotain parses only files with problems (well-formed ones take grammar/fast-parse.ts), yet
// compiling its code is a tenth of a cold `rlp check`. So it goes into a CommonJS side bundle,
// dist/rlp-chevrotain.cjs, that the CLI requires (synchronously: parsing is synchronous) the
// first time a file needs it; grammar/parse.ts's import of it becomes this loader.
const CHEVROTAIN_BUNDLE = 'rlp-chevrotain.cjs';
const onDemandLoader = `
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
let loaded;
export function parseWithChevrotain(file) {
  if (loaded === undefined) {
    // This code lands in dist/rlp.mjs or in a chunk under dist/chunks/.
    const here = dirname(fileURLToPath(import.meta.url));
    const path = [join(here, '${CHEVROTAIN_BUNDLE}'), join(here, '..', '${CHEVROTAIN_BUNDLE}')].find((p) => existsSync(p));
    if (path === undefined) throw new Error('internal: dist/${CHEVROTAIN_BUNDLE} is missing: run \`npm run build\`');
    loaded = createRequire(import.meta.url)(path);
  }
  return loaded.parseWithChevrotain(file);
}
`;
let redirected = false;
const chevrotainOnDemand = {
  name: 'chevrotain-on-demand',
  setup(b) {
    b.onResolve({ filter: /^\.\/chevrotain-parse\.js$/ }, (args) => {
      if (args.importer !== join(root, 'grammar', 'parse.ts')) return undefined;
      redirected = true;
      return { path: 'chevrotain-parse', namespace: 'rlp-on-demand' };
    });
    b.onLoad({ filter: /.*/, namespace: 'rlp-on-demand' }, () => ({ contents: onDemandLoader, loader: 'js', resolveDir: root }));
  },
};

// Commander requires node:child_process when it loads (Node then compiles child_process, net and
// streams: a twentieth of a cold `rlp check`), for executable subcommands, which rlp has none of.
// Its require gets a stand-in that loads the real module if it is ever used.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes(`${sep}commander${sep}`) ? { path: 'child_process', namespace: 'rlp-lazy-child-process' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'rlp-lazy-child-process' }, () => ({
      contents: "let real; module.exports = new Proxy({}, { get: (_, key) => (real ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

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
  plugins: [chevrotainOnDemand, lazyChildProcess],
  banner: { js: "import { createRequire as __rlpCreateRequire } from 'node:module'; const require = __rlpCreateRequire(import.meta.url);" },
});

// Without the redirect Chevrotain would be back in the main bundle: still correct, but slow to start.
if (!redirected) throw new Error('build: grammar/parse.ts no longer imports ./chevrotain-parse.js; update the chevrotain-on-demand plugin');

await build({
  entryPoints: [join(root, 'grammar/chevrotain-parse.ts')],
  outfile: join(root, 'dist', CHEVROTAIN_BUNDLE),
  mainFields: ['module', 'main'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
