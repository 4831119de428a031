/** The VS Code extension: starts `rlp lsp` over stdio for `.rlp` files. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { workspace, type ExtensionContext } from 'vscode';
import { LanguageClient, TransportKind, type ServerOptions } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

/** The server command: the setting, else the workspace's `node_modules/.bin/rlp`, else `rlp` on the PATH. */
function serverCommand(): { command: string; args: string[] } {
  const configured = workspace.getConfiguration('rlp').get<string[]>('server.command') ?? [];
  if (configured.length > 0) return { command: configured[0]!, args: configured.slice(1) };
  for (const folder of workspace.workspaceFolders ?? []) {
    const local = join(folder.uri.fsPath, 'node_modules', '.bin', process.platform === 'win32' ? 'rlp.cmd' : 'rlp');
    if (existsSync(local)) return { command: local, args: ['lsp'] };
  }
  return { command: 'rlp', args: ['lsp'] };
}

/** Start the language client. */
export async function activate(context: ExtensionContext): Promise<void> {
  const { command, args } = serverCommand();
  const server: ServerOptions = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient('rlp', 'rlp', server, { documentSelector: [{ scheme: 'file', language: 'rlp' }] });
  context.subscriptions.push(client);
  await client.start();
}

/** Stop the language client. */
export async function deactivate(): Promise<void> {
  await client?.stop();
}
