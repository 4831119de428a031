/**
 * `rlp lsp`: the language server. It keeps a Workspace of open documents and answers from the
 * compiler's editor API (compiler/api): diagnostics as you type, hover, definition, references,
 * rename, completion, signature help, document symbols, semantic tokens and quick fixes.
 * It loads no TF.js: only the grammar and the compiler.
 */
import { createConnection, ProposedFeatures, StreamMessageReader, StreamMessageWriter, TextDocuments, TextDocumentSyncKind, type Connection } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { checkNewName, completionsAt, definitionAt, fixesFor, hoverAt, outline, referencesAt, renameAt, renameRangeAt, semanticTokens, signatureAt, TOKEN_MODIFIERS, TOKEN_TYPES, Workspace } from '../../../compiler/api/index.js';
import { makeSource } from '../../../grammar/source.js';
import { offsetOf, pathToUri, range, toCompletionItem, toDocumentSymbol, toLspDiagnostic, uriToPath, workspaceEdit } from './convert.js';

/** Start the server on stdin/stdout; resolves when the client closes the connection. */
export function startServer(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<void> {
  const connection = createConnection(ProposedFeatures.all, new StreamMessageReader(input), new StreamMessageWriter(output));
  const done = new Promise<void>((resolve) => connection.onExit(() => resolve()));
  serve(connection);
  connection.listen();
  return done;
}

function serve(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  let ws = new Workspace();
  const pending = new Map<string, NodeJS.Immediate>();

  connection.onInitialize((params) => {
    const root = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? null;
    if (root !== null && root.startsWith('file:')) ws = new Workspace(uriToPath(root));
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        completionProvider: { triggerCharacters: ['"', '/', '[', '(', ','] },
        signatureHelpProvider: { triggerCharacters: ['(', ','] },
        documentSymbolProvider: true,
        semanticTokensProvider: { legend: { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] }, full: true },
        codeActionProvider: { codeActionKinds: ['quickfix'] },
      },
      serverInfo: { name: 'rlp' },
    };
  });

  const validate = (uri: string): void => {
    pending.delete(uri);
    const doc = documents.get(uri);
    if (doc === undefined) return;
    const path = uriToPath(uri);
    ws.set(path, doc.getText());
    const a = ws.analysis(path);
    const mine = a.diagnostics.filter((d) => a.moduleOfFile(d.span.file)?.path === path);
    void connection.sendDiagnostics({ uri, version: doc.version, diagnostics: mine.map((d) => toLspDiagnostic(a, d)) });
  };
  const schedule = (uri: string): void => {
    const prev = pending.get(uri);
    if (prev !== undefined) clearImmediate(prev);
    pending.set(uri, setImmediate(() => validate(uri)));
  };
  documents.onDidChangeContent((e) => {
    ws.set(uriToPath(e.document.uri), e.document.getText());
    schedule(e.document.uri);
  });
  documents.onDidClose((e) => {
    ws.close(uriToPath(e.document.uri));
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  /** The path, the text's SourceFile and the offset of a request's position. */
  const at = (p: { textDocument: { uri: string }; position: { line: number; character: number } }) => {
    const path = uriToPath(p.textDocument.uri);
    const file = makeSource(path, ws.text(path) ?? '');
    return { path, file, offset: offsetOf(file, p.position) };
  };
  const loc = (l: { path: string; span: Parameters<typeof range>[0] }) => ({ uri: pathToUri(l.path), range: range(l.span) });

  connection.onHover((p) => {
    const { path, offset } = at(p);
    const h = hoverAt(ws.analysis(path), path, offset);
    return h === null ? null : { contents: { kind: 'markdown', value: h.markdown }, range: range(h.span) };
  });
  connection.onDefinition((p) => {
    const { path, offset } = at(p);
    const d = definitionAt(ws.analysis(path), path, offset);
    return d === null ? null : loc(d);
  });
  connection.onReferences((p) => {
    const { path, offset } = at(p);
    return referencesAt(ws.wide(path), path, offset, p.context.includeDeclaration).map(loc);
  });
  connection.onPrepareRename((p) => {
    const { path, offset } = at(p);
    const s = renameRangeAt(ws.analysis(path), path, offset);
    return s === null ? null : range(s);
  });
  connection.onRenameRequest((p) => {
    const { path, offset } = at(p);
    const bad = checkNewName(p.newName);
    if (bad !== null) throw new Error(bad);
    const edits = renameAt(ws.wide(path), path, offset, p.newName);
    return edits === null ? null : workspaceEdit(edits);
  });
  connection.onCompletion((p) => {
    const { path, file, offset } = at(p);
    return completionsAt(ws.lastParsed(path) ?? ws.analysis(path), path, file.text, offset).map((c) => toCompletionItem(file, c, offset));
  });
  connection.onSignatureHelp((p) => {
    const { path, file, offset } = at(p);
    const s = signatureAt(ws.lastParsed(path), path, file.text, offset);
    if (s === null) return null;
    return {
      signatures: s.signatures.map((g) => ({ label: g.label, documentation: g.doc, parameters: g.params.map((x) => ({ label: x })) })),
      activeSignature: s.activeSignature,
      activeParameter: s.activeParameter,
    };
  });
  connection.onDocumentSymbol((p) => {
    const path = uriToPath(p.textDocument.uri);
    const m = (ws.lastParsed(path) ?? ws.analysis(path)).module(path);
    return m === undefined ? [] : outline(m).map(toDocumentSymbol);
  });
  connection.languages.semanticTokens.on((p) => {
    const path = uriToPath(p.textDocument.uri);
    const a = ws.analysis(path);
    const m = a.module(path);
    return { data: m === undefined ? [] : encodeTokens(semanticTokens(a, m).map((t) => ({ ...range(t.span), type: TOKEN_TYPES.indexOf(t.type), mods: t.modifiers.reduce((b, x) => b | (1 << TOKEN_MODIFIERS.indexOf(x)), 0) }))) };
  });
  connection.onCodeAction((p) => {
    const path = uriToPath(p.textDocument.uri);
    const a = ws.analysis(path);
    const wanted = new Set(p.context.diagnostics.map((d) => `${String(d.code)}@${d.range.start.line}:${d.range.start.character}`));
    return a.diagnostics
      .filter((d) => a.moduleOfFile(d.span.file)?.path === path && wanted.has(`${d.code}@${range(d.span).start.line}:${range(d.span).start.character}`))
      .flatMap((d) => fixesFor(a, d).map((f) => ({ title: f.title, kind: 'quickfix', diagnostics: [toLspDiagnostic(a, d)], edit: workspaceEdit(f.edits) })));
  });

  documents.listen(connection);
}

/** LSP's relative encoding of semantic tokens (one line each; multi-line spans are skipped). */
function encodeTokens(ts: readonly { start: { line: number; character: number }; end: { line: number; character: number }; type: number; mods: number }[]): number[] {
  const data: number[] = [];
  let line = 0;
  let char = 0;
  for (const t of ts) {
    if (t.start.line !== t.end.line) continue;
    const dl = t.start.line - line;
    data.push(dl, dl === 0 ? t.start.character - char : t.start.character, t.end.character - t.start.character, t.type, t.mods);
    line = t.start.line;
    char = t.start.character;
  }
  return data;
}
