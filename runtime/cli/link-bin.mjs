// `npx rlp` inside this repository: npm links the bins of dependencies into node_modules/.bin but
// not the root package's own, so npx would look for `rlp` on the registry. Run by `prepare`
// (which `npm ci` runs), this links ours there.
import { mkdirSync, readlinkSync, rmSync, symlinkSync, chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const binDir = join(root, 'node_modules', '.bin');
const target = join(root, 'runtime', 'cli', 'rlp.mjs');
const link = join(binDir, 'rlp');
const wanted = relative(binDir, target);

let current;
try {
  current = readlinkSync(link);
} catch {
  current = undefined;
}
if (current !== wanted) {
  mkdirSync(binDir, { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(wanted, link);
}
chmodSync(target, 0o755);
