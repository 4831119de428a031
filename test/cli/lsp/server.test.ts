/**
 * `rlp lsp` driven through its stdio transport with real LSP messages: the bundled CLI is
 * spawned and spoken to as an editor would (initialize, didOpen, didChange, hover, definition,
 * references, completion, signatureHelp, rename, codeAction, documentSymbol, semanticTokens).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LspClient, uriOf, type LspDiagnostic } from '../../helpers/lsp-client.js';
import { applyEdits, posOf, type Pos } from '../../helpers/lsp-text.js';

let c: LspClient;
beforeAll(async () => {
  c = await LspClient.start();
});
afterAll(async () => {
  await c.stop();
});

const stdlib = readdirSync('stdlib').filter((f) => f.endsWith('.rlp')).sort().map((f) => join('stdlib', f));
const cases = readdirSync('test/cases').filter((f) => f.endsWith('.rlp')).sort().map((f) => join('test/cases', f));

/** `rlp check --format json FILE`, from the bundled CLI. */
function checkJson(files: readonly string[]): JsonDiagnostic[] {
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'check', '--format', 'json', ...files], { encoding: 'utf8' });
  return JSON.parse(r.stdout) as JsonDiagnostic[];
}

interface JsonSpan { file: string; line: number; column: number; endLine: number; endColumn: number }
interface JsonDiagnostic { code: string; severity: string; message: string; span: JsonSpan; spanLabel: string | null; labels: { span: JsonSpan; message: string }[]; notes: string[]; help: string | null }

const at = (file: string, r: LspDiagnostic['range']): JsonSpan => ({ file, line: r.start.line + 1, column: r.start.character + 1, endLine: r.end.line + 1, endColumn: r.end.character + 1 });
const shown = (uri: string): string => relative(process.cwd(), fileURLToPath(uri));

/** A published diagnostic in `rlp check --format json`'s shape (its message split back into message, notes, help). */
function asJson(file: string, d: LspDiagnostic): JsonDiagnostic {
  return {
    code: d.code,
    severity: d.severity === 1 ? 'error' : 'warning',
    message: d.message.split('\n')[0]!,
    span: at(file, d.range),
    spanLabel: d.data.spanLabel,
    labels: (d.relatedInformation ?? []).map((r) => ({ span: at(shown(r.location.uri), r.location.range), message: r.message })),
    notes: d.data.notes,
    help: d.data.help,
  };
}

const strip = (d: JsonDiagnostic): JsonDiagnostic => ({ ...d, span: { ...d.span, start: undefined, end: undefined } as unknown as JsonSpan, labels: d.labels.map((l) => ({ ...l, span: { ...l.span, start: undefined, end: undefined } as unknown as JsonSpan })) });

/** `rlp check --format json` once over many files, split by file (one spawn instead of ninety). */
function checkAllJson(files: readonly string[]): Map<string, JsonDiagnostic[]> {
  const byFile = new Map<string, JsonDiagnostic[]>(files.map((f) => [f, []]));
  for (const d of checkJson(files)) byFile.get(d.span.file)?.push(strip(d));
  return byFile;
}

/** Assert a file's published diagnostics are `expected`, and that each message carries its notes and help. */
async function expectSameDiagnostics(file: string, expected: readonly JsonDiagnostic[]): Promise<void> {
  const published = await c.open(file);
  expect(published.diagnostics.map((d) => asJson(file, d))).toEqual(expected);
  for (const d of published.diagnostics) {
    const extra = [...d.data.notes.map((n) => `note: ${n}`), ...(d.data.help !== null ? [`help: ${d.data.help}`] : [])];
    expect(d.message).toBe([d.message.split('\n')[0], ...extra].join('\n'));
  }
}

describe('diagnostics as you open a file', () => {
  const all = checkAllJson([...stdlib, ...cases]);

  it('cover every stdlib file and at least 40 golden error cases', () => {
    expect(stdlib.length).toBeGreaterThanOrEqual(14);
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(cases.filter((f) => (all.get(f) ?? []).length > 0).length).toBeGreaterThanOrEqual(40);
  });

  for (const file of [...stdlib, ...cases]) {
    it(`equal rlp check --format json on ${file}`, async () => {
      await expectSameDiagnostics(file, all.get(file) ?? []);
    });
  }

  for (const file of ['stdlib/preference.rlp', 'test/cases/dims-mismatch.rlp', 'test/cases/import-cycle.rlp', 'test/cases/extends-param-type.rlp']) {
    it(`equal rlp check --format json on ${file} checked alone`, async () => {
      await expectSameDiagnostics(file, checkJson([file]).filter((d) => d.span.file === file).map(strip));
    });
  }
});
