/** The process entry point of the bundled CLI. */
import { main } from './main.js';

const code = await main(process.argv.slice(2));
// Dawn (webgpu) keeps the event loop alive; once output is flushed, leave explicitly.
if ((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined) {
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
process.exitCode = code;
