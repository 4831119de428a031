// A Node module hook for tests: every module that resolves to TF.js or Dawn is written to stderr
// as `LOADED <url>`, so a test can see what a command imports (not how long it takes): ES module
// imports through a resolve hook, CommonJS `require`s (how runtime/backends/tf.ts loads TF.js)
// through the CommonJS resolver.
import Module, { register } from 'node:module';

const PATTERN = /@tensorflow|node_modules\/webgpu/;

register(
  'data:text/javascript,' +
    encodeURIComponent(
      'export async function resolve(s, c, next) { const r = await next(s, c); if (/@tensorflow|node_modules\\/webgpu/.test(r.url)) process.stderr.write("LOADED " + r.url + "\\n"); return r; }',
    ),
);

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const r = resolveFilename.call(this, request, ...rest);
  if (PATTERN.test(r)) process.stderr.write('LOADED ' + r + '\n');
  return r;
};
