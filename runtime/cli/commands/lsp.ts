/** `rlp lsp`: the language server over stdio, for editors. */
import { EXIT } from '../io.js';
import { startServer } from '../lsp/server.js';

/** Run the language server until the client ends it; returns the exit code. */
export async function runLsp(): Promise<number> {
  await startServer();
  return EXIT.ok;
}
