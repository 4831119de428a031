/** A language-server client for tests: spawns `rlp lsp` and speaks LSP over its stdio. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

/** A published diagnostics notification. */
export interface Published {
  readonly uri: string;
  readonly version?: number;
  readonly diagnostics: readonly LspDiagnostic[];
}

/** The parts of an LSP diagnostic the tests read. */
export interface LspDiagnostic {
  readonly range: { start: { line: number; character: number }; end: { line: number; character: number } };
  readonly severity: number;
  readonly code: string;
  readonly message: string;
  readonly relatedInformation?: readonly { location: { uri: string; range: LspDiagnostic['range'] }; message: string }[];
  readonly data: { help: string | null; notes: string[]; spanLabel: string | null };
}

/** A running server and a connection to it. */
export class LspClient {
  private readonly published: Published[] = [];
  private readonly waiters: { uri: string; version: number | undefined; resolve: (p: Published) => void }[] = [];
  private readonly versions = new Map<string, number>();

  private constructor(
    private readonly proc: ChildProcess,
    readonly conn: MessageConnection,
  ) {
    conn.onNotification('textDocument/publishDiagnostics', (p: Published) => {
      this.published.push(p);
      for (const w of [...this.waiters]) {
        if (w.uri === p.uri && (w.version === undefined || p.version === w.version)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(p);
        }
      }
    });
  }

  /** Spawn the bundled CLI's `rlp lsp` in `cwd` and initialize it. */
  static async start(cwd = process.cwd()): Promise<LspClient> {
    const proc = spawn(process.execPath, [resolve('runtime/cli/rlp.mjs'), 'lsp', '--stdio'], { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    conn.listen();
    const c = new LspClient(proc, conn);
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: pathToFileURL(cwd).href, capabilities: {}, workspaceFolders: null });
    await conn.sendNotification('initialized', {});
    return c;
  }

  /** Open a file (its text from disk unless given); resolves with its first diagnostics. */
  open(path: string, text = readFileSync(path, 'utf8')): Promise<Published> {
    const uri = uriOf(path);
    this.versions.set(uri, 1);
    const p = this.nextDiagnostics(uri, 1);
    void this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'rlp', version: 1, text } });
    return p;
  }

  /** Replace a range of an open document; resolves with the diagnostics of the new version. */
  change(path: string, range: LspDiagnostic['range'], text: string): Promise<Published> {
    const uri = uriOf(path);
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    const p = this.nextDiagnostics(uri, version);
    void this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text }] });
    return p;
  }

  /** Send a request about a position of a file. */
  at<T>(method: string, path: string, line: number, character: number, extra: object = {}): Promise<T> {
    return this.conn.sendRequest(method, { textDocument: { uri: uriOf(path) }, position: { line, character }, ...extra }) as Promise<T>;
  }

  private nextDiagnostics(uri: string, version: number): Promise<Published> {
    return new Promise((res) => this.waiters.push({ uri, version, resolve: res }));
  }

  /** Shut the server down and wait for the process to exit; resolves with its exit code. */
  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((res) => this.proc.on('exit', (code) => res(code)));
    await this.conn.sendRequest('shutdown');
    await this.conn.sendNotification('exit');
    const code = await exited;
    this.conn.dispose();
    return code;
  }
}

/** The file URI of a path (relative to the working directory). */
export function uriOf(path: string): string {
  return pathToFileURL(resolve(path)).href;
}
