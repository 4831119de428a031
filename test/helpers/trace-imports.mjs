// Preloaded with `node --import`: appends every bare package specifier the process resolves to the
// file named by RLP_TRACE_IMPORTS, so a test can tell which packages a command loaded.
import { register } from 'node:module';

const hook = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (process.env.RLP_TRACE_IMPORTS && !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.startsWith('node:') && !specifier.startsWith('file:')) {
    appendFileSync(process.env.RLP_TRACE_IMPORTS, specifier + '\\n');
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
