// Preloaded with `node --import`: appends every bare package specifier the process resolves to the
// file named by RLP_TRACE_IMPORTS, so a test can tell which packages a command loaded: ES imports
// through a resolve hook, CommonJS requires (how TF.js is loaded) through the CommonJS resolver.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const hook = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (process.env.RLP_TRACE_IMPORTS && !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('node:') && !specifier.startsWith('file:')) {
    appendFileSync(process.env.RLP_TRACE_IMPORTS, specifier + '\\n');
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

const bare = (s) => !s.startsWith('.') && !s.startsWith('/') && !s.startsWith('node:') && !s.startsWith('file:');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (process.env.RLP_TRACE_IMPORTS && typeof request === 'string' && bare(request)) appendFileSync(process.env.RLP_TRACE_IMPORTS, request + '\n');
  return resolveFilename.call(this, request, ...rest);
};
