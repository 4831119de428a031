// Build the VS Code extension and package it as a .vsix, offline: esbuild bundles the client
// (vscode-languageclient from the repository's node_modules) into dist/extension.js, then
// `vsce package --no-dependencies` zips it with the grammar. Usage: node editors/vscode/build.mjs [OUT.vsix]
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, 'rlp.vsix'));

await build({
  entryPoints: [join(here, 'src/extension.ts')],
  outfile: join(here, 'dist/extension.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  minify: true,
  logLevel: 'warning',
});

const vsce = join(dirname(createRequire(import.meta.url).resolve('@vscode/vsce/package.json')), 'vsce');
execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '-o', out], { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] });
