// A Node module hook for tests: every module that resolves to TF.js or Dawn is written to stderr
// as `LOADED <url>`, so a test can see what a command imports (not how long it takes).
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(
      'export async function resolve(s, c, next) { const r = await next(s, c); if (/@tensorflow|node_modules\\/webgpu/.test(r.url)) process.stderr.write("LOADED " + r.url + "\\n"); return r; }',
    ),
);
