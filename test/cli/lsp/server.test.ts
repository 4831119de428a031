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

/** Ask at the position of `needle` (its `nth` occurrence, `delta` characters in). */
const ask = <T>(method: string, file: string, needle: string, nth = 0, delta = 0, extra: object = {}): Promise<T> => {
  const p: Pos = posOf(file, needle, nth, delta);
  return c.at<T>(method, file, p.line, p.character, extra);
};
const hoverText = async (file: string, needle: string, nth = 0, delta = 0): Promise<string | null> =>
  (await ask<{ contents: { value: string } } | null>('textDocument/hover', file, needle, nth, delta))?.contents.value ?? null;
const fence = (s: string): string => '```rlp\n' + s + '\n```';

describe('hover', () => {
  const pins: [string, string, number, number, string][] = [
    ['stdlib/grpo.rlp', 'advantage { A', 0, 12, fence('A: f32[B,G]') + '\n\nbinding of stage `advantage` in `grpo`, sequence level'],
    ['stdlib/grpo.rlp', '    beta: float', 0, 4, fence('beta: float = 0.04 in [0, inf)') + '\n\nparam in `grpo`\n\nweight of the k3 KL penalty to the reference policy'],
    ['stdlib/grpo.rlp', 'kl_k3(logp, ref_logp)', 0, 12, fence('ref_logp: f32[B,G,T]@mask') + '\n\nstandard input, token level\n\nper-token log-probabilities under the reference policy'],
    ['stdlib/grpo.rlp', 'over [B, G]', 0, 6, fence('dim B') + '\n\nstandard dimension: prompts in the batch'],
    ['stdlib/grpo.rlp', '  loss {', 0, 2, fence('loss') + '\n\nthe per-token and per-sequence terms, and one `minimize` of a scalar'],
    ['stdlib/dr_grpo.rlp', 'per_token', 0, 0, fence('per_token: f32[B,G,T]@mask') + '\n\nbinding of stage `loss` in `dr_grpo` (declared by `grpo`), token level'],
    ['stdlib/grpo.rlp', 'reward = correct', 0, 9, fence('correct: f32[B,G]') + '\n\nbuilt-in reward function: 1 when the completion holds the expected answer (the `answer` column), else 0'],
    ['stdlib/prelude.rlp', 'exp(d)', 0, 4, fence('d') + '\n\na parameter or local of `kl_k3`'],
    ['stdlib/ppo.rlp', 'pg_loss =', 0, 0, fence('pg_loss: f32') + '\n\nbinding of stage `loss` in `ppo`, batch level'],
    ['stdlib/preference.rlp', 'length_normalize: bool', 0, 0, fence('length_normalize: bool = true') + '\n\nparam in `ipo`\n\naverage the log-ratios over tokens (TRL) rather than sum them (OpenRLHF)'],
    ['stdlib/grpo.rlp', 'import "std/prelude"', 0, 8, 'the file `stdlib/prelude.rlp`'],
  ];
  for (const [file, needle, nth, delta, want] of pins) {
    it(`over \`${needle}\` in ${file} shows ${JSON.stringify(want.split('\n')[1] ?? want)}`, async () => {
      expect(await hoverText(file, needle, nth, delta)).toBe(want);
    });
  }

  it('over an op shows its signature and summary', async () => {
    expect(await hoverText('stdlib/grpo.rlp', '= exp(logp', 1, 2)).toBe(fence('exp(x)') + '\n\ne ** x.');
  });

  it('over a prelude function shows its signature, doc and file', async () => {
    const h = await hoverText('stdlib/grpo.rlp', 'kl = kl_k3', 0, 5);
    expect(h).toBe(fence('fn kl_k3(logp, ref_logp)') + '\n\nk3: e^(ref - logp) - (ref - logp) - 1 (unbiased, non-negative). TRL uses it unclamped;\nverl clamps it (`kl_k3_clamped`).\n\ndeclared in `stdlib/prelude.rlp`');
  });

  it('over a stdlib pipeline in `extends` shows its doc comment', async () => {
    const h = await hoverText('stdlib/preference.rlp', 'extends dpo', 0, 8);
    expect(h?.startsWith(fence('pipeline dpo') + '\n\nDirect Preference Optimization (Rafailov et al., 2023): the sigmoid loss')).toBe(true);
    expect(h?.endsWith('declared in `stdlib/dpo.rlp`')).toBe(true);
  });

  it('over a keyword argument of an op shows the op\'s signature', async () => {
    const h = await hoverText('stdlib/grpo.rlp', 'n = group', 0, 0);
    expect(h?.startsWith(fence('rollout(n, temperature = 1, top_p = 1, max_tokens = 64,').slice(0, -4))).toBe(true);
    expect(h?.endsWith('argument `n` of `rollout`')).toBe(true);
  });

  it('over a comment shows nothing', async () => {
    expect(await hoverText('stdlib/grpo.rlp', 'Group Relative', 0, 2)).toBeNull();
  });
});

type Loc = { uri: string; range: { start: Pos; end: Pos } };
const where = (l: Loc | null): string | null => (l === null ? null : `${shown(l.uri)}:${l.range.start.line + 1}:${l.range.start.character + 1}-${l.range.end.character + 1}`);

describe('go to definition', () => {
  const pins: [string, string, number, number, string][] = [
    ['stdlib/dr_grpo.rlp', 'extends grpo', 0, 8, 'stdlib/grpo.rlp:18:10-14'],
    ['stdlib/dr_grpo.rlp', 'group_centered', 0, 0, 'stdlib/prelude.rlp:57:4-18'],
    ['stdlib/dr_grpo.rlp', 'per_token', 0, 0, 'stdlib/grpo.rlp:39:5-14'],
    ['stdlib/dr_grpo.rlp', 'singleton_verl', 0, 0, 'stdlib/grpo.rlp:27:5-19'],
    ['stdlib/preference.rlp', 'beta * delta', 0, 0, 'stdlib/dpo.rlp:16:5-9'],
    ['stdlib/preference.rlp', 'beta * delta', 0, 8, 'stdlib/dpo.rlp:23:5-10'],
    ['stdlib/grpo.rlp', 'import "std/prelude"', 0, 9, 'stdlib/prelude.rlp:1:1-1'],
    ['stdlib/grpo.rlp', 'minimize agg_loss(per_token', 0, 18, 'stdlib/grpo.rlp:39:5-14'],
    ['stdlib/prelude.rlp', 'exp(d)', 0, 4, 'stdlib/prelude.rlp:20:3-4'],
  ];
  for (const [file, needle, nth, delta, want] of pins) {
    it(`of \`${needle.slice(delta)}\` in ${file} is ${want}`, async () => {
      expect(where(await ask<Loc | null>('textDocument/definition', file, needle, nth, delta))).toBe(want);
    });
  }

  it('of a built-in op is nowhere', async () => {
    expect(await ask<Loc | null>('textDocument/definition', 'stdlib/grpo.rlp', 'surrogate = clipped', 0, 0).then(where)).toBe('stdlib/grpo.rlp:37:5-14');
    expect(await ask<Loc | null>('textDocument/definition', 'stdlib/grpo.rlp', '= exp(logp', 1, 2)).toBeNull();
  });
});

type Item = { label: string; detail?: string; textEdit?: { range: { start: Pos; end: Pos }; newText: string } };
const labels = async (file: string, needle: string, nth = 0, delta = 0): Promise<string[]> => (await ask<Item[]>('textDocument/completion', file, needle, nth, delta)).map((i) => i.label);

describe('completion', () => {
  it('offers the dims after `over`', async () => {
    expect(await labels('stdlib/grpo.rlp', 'over [B, G]', 0, 6)).toEqual(['B', 'G', 'T', 'V']);
  });

  it('offers every stdlib module inside an import string', async () => {
    const items = await ask<Item[]>('textDocument/completion', 'stdlib/grpo.rlp', '"std/prelude"', 0, 1);
    expect(items.map((i) => i.label)).toEqual(stdlib.map((f) => 'std/' + f.slice('stdlib/'.length, -'.rlp'.length)));
    expect(items[0]!.textEdit!.range.end).toEqual(posOf('stdlib/grpo.rlp', '"std/prelude"', 0, 1));
  });

  it('offers the block keywords inside a pipeline', async () => {
    expect(await labels('stdlib/grpo.rlp', '  loss {', 0, 2)).toEqual(['params', 'inputs', 'state', 'sample', 'reward', 'advantage', 'normalize', 'loss', 'update']);
  });

  it('offers the top-level keywords outside pipelines', async () => {
    expect(await labels('stdlib/grpo.rlp', 'pipeline grpo', 0, 0)).toEqual(['import', 'pipeline', 'fn', 'dim']);
  });

  it('offers bindings of this and earlier stages, params, inputs, reward functions, ops and prelude functions in the reward stage', async () => {
    const items = await ask<Item[]>('textDocument/completion', 'stdlib/grpo.rlp', 'reward = correct', 0, 9);
    const byLabel = new Map(items.map((i) => [i.label, i.detail]));
    expect(byLabel.get('reward')).toBe('f32[B,G]  (reward)');
    expect(byLabel.has('A')).toBe(false);
    expect(byLabel.get('beta')).toBe('beta: float = 0.04 in [0, inf)');
    expect(byLabel.get('logp')).toBe('f32[B,G,T]@mask');
    expect(byLabel.get('correct')).toBe('f32[B,G]');
    expect(byLabel.get('mean')).toBe('mean(x, over DIMS, where MASK)');
    expect(byLabel.get('kl_k3')).toBe('fn kl_k3(logp, ref_logp)');
  });

  it('offers loss-stage bindings and `minimize` in the loss stage, with their types', async () => {
    const items = await ask<Item[]>('textDocument/completion', 'stdlib/grpo.rlp', 'per_token = -surrogate', 0, 13);
    const byLabel = new Map(items.map((i) => [i.label, i.detail]));
    expect(byLabel.get('surrogate')).toBe('f32[B,G,T]@mask  (loss)');
    expect(byLabel.get('A')).toBe('f32[B,G]  (advantage)');
    expect(byLabel.has('minimize')).toBe(true);
  });

  it('still offers names while the file does not parse (from its last version that did)', async () => {
    const file = 'test/cases/names-unknown-name.rlp';
    const text = readFileSync(file, 'utf8');
    await c.open(file, text);
    const p = posOf(file, '    minimize');
    await c.change(file, { start: p, end: p }, '    broken = mean(rat\n');
    const items = await c.at<Item[]>('textDocument/completion', file, p.line, p.character + '    broken = mean(rat'.length);
    expect(items.find((i) => i.label === 'ratio')?.detail).toBe('f32[B,G,T]@mask  (loss)');
    expect(items.find((i) => i.label === 'ratio')?.textEdit?.range.start).toEqual({ line: p.line, character: p.character + '    broken = mean('.length });
  });
});

describe('signature help', () => {
  it('shows a prelude function\'s parameters with the active one', async () => {
    const s = await ask<{ signatures: { label: string }[]; activeParameter: number }>('textDocument/signatureHelp', 'stdlib/grpo.rlp', 'clip_low, clip_high)', 0, 0);
    expect(s.signatures.map((x) => x.label)).toEqual(['clipped_surrogate(ratio, A, clip_low, clip_high)']);
    expect(s.activeParameter).toBe(2);
  });

  it('picks the reduction and its `over` parameter after `over`', async () => {
    const s = await ask<{ signatures: { label: string }[]; activeSignature: number; activeParameter: number }>('textDocument/signatureHelp', 'stdlib/grpo.rlp', 'over [B, G])', 0, 5);
    expect(s.signatures[s.activeSignature]!.label).toBe('sum(x, over DIMS, where MASK)');
    expect(s.activeParameter).toBe(1);
  });
});

type Edit = { range: { start: Pos; end: Pos }; newText: string };
type WorkspaceEdit = { changes: Record<string, Edit[]> };

/** Open `file` with `text` (as an unsaved editor buffer) and return its diagnostics. */
const openAs = async (file: string, text: string): Promise<readonly LspDiagnostic[]> => (await c.open(file, text)).diagnostics;

describe('rename', () => {
  it('renames a binding in its pipeline and in every child that uses it, across files', async () => {
    const we = await ask<WorkspaceEdit>('textDocument/rename', 'stdlib/dpo.rlp', '    delta =', 0, 4, { newName: 'margin' });
    const files = Object.keys(we.changes).map(shown).sort();
    expect(files).toEqual(['stdlib/dno.rlp', 'stdlib/dpo.rlp', 'stdlib/mcts_dpo.rlp', 'stdlib/preference.rlp', 'stdlib/preference_iii.rlp', 'stdlib/smpo.rlp', 'stdlib/srpo.rlp']);
    const renamed = new Map(files.map((f) => [f, applyEdits(readFileSync(f, 'utf8'), we.changes[uriOf(f)]!)]));
    expect(renamed.get('stdlib/dpo.rlp')).toContain('    margin = u_c - u_r');
    expect(renamed.get('stdlib/preference.rlp')).not.toMatch(/beta \* delta/);
    // The renamed files check cleanly together (the server reads the open buffers, not the disk).
    for (const [f, text] of renamed) expect(await openAs(f, text), f).toEqual([]);
    for (const f of files) await openAs(f, readFileSync(f, 'utf8'));
  });

  it('renames a binding from a child\'s override: the parent\'s declaration and every other override follow', async () => {
    const we = await ask<WorkspaceEdit>('textDocument/rename', 'stdlib/preference.rlp', '    losses = (norm_delta', 0, 4, { newName: 'per_pair' });
    const dpo = applyEdits(readFileSync('stdlib/dpo.rlp', 'utf8'), we.changes[uriOf('stdlib/dpo.rlp')]!);
    const pref = applyEdits(readFileSync('stdlib/preference.rlp', 'utf8'), we.changes[uriOf('stdlib/preference.rlp')]!);
    const pref3 = applyEdits(readFileSync('stdlib/preference_iii.rlp', 'utf8'), we.changes[uriOf('stdlib/preference_iii.rlp')] ?? []);
    expect(dpo).toMatch(/\n {4}per_pair = -\(1 - label_smoothing\)/);
    expect(dpo).toContain('minimize sum(per_pair, over B) / pairs');
    const overrides = readFileSync('stdlib/preference.rlp', 'utf8').match(/losses = /g)!.length;
    expect(pref.match(/per_pair = /g)!.length).toBe(overrides);
    expect(await openAs('stdlib/dpo.rlp', dpo)).toEqual([]);
    expect(await openAs('stdlib/preference.rlp', pref)).toEqual([]);
    expect(await openAs('stdlib/preference_iii.rlp', pref3)).toEqual([]);
    await openAs('stdlib/dpo.rlp', readFileSync('stdlib/dpo.rlp', 'utf8'));
    await openAs('stdlib/preference.rlp', readFileSync('stdlib/preference.rlp', 'utf8'));
    await openAs('stdlib/preference_iii.rlp', readFileSync('stdlib/preference_iii.rlp', 'utf8'));
  });

  it('renames a param with its uses in extends children', async () => {
    const we = await ask<WorkspaceEdit>('textDocument/rename', 'stdlib/grpo.rlp', '    singleton_verl: bool', 0, 4, { newName: 'singleton_mode' });
    const files = Object.keys(we.changes).map(shown).sort();
    expect(files).toContain('stdlib/dr_grpo.rlp');
    expect(we.changes[uriOf('stdlib/dr_grpo.rlp')]!.map((e) => e.newText)).toEqual(['singleton_mode']);
  });

  it('refuses to rename an op or a standard input', async () => {
    expect(await ask('textDocument/prepareRename', 'stdlib/grpo.rlp', '= exp(logp', 1, 2)).toBeNull();
    expect(await ask('textDocument/prepareRename', 'stdlib/grpo.rlp', 'kl_k3(logp, ref_logp)', 0, 12)).toBeNull();
    expect(await ask('textDocument/prepareRename', 'stdlib/grpo.rlp', 'advantage { A', 0, 12)).toEqual({ start: posOf('stdlib/grpo.rlp', 'advantage { A', 0, 12), end: posOf('stdlib/grpo.rlp', 'advantage { A', 0, 13) });
  });

  it('finds every reference of a prelude function across the stdlib', async () => {
    const refs = await ask<Loc[]>('textDocument/references', 'stdlib/prelude.rlp', 'fn kl_k3(', 0, 3, { context: { includeDeclaration: true } });
    const files = [...new Set(refs.map((r) => shown(r.uri)))].sort();
    expect(files).toContain('stdlib/prelude.rlp');
    expect(files).toContain('stdlib/grpo.rlp');
    // Its declaration and its use in kl_by_name.
    expect(refs.filter((r) => shown(r.uri) === 'stdlib/prelude.rlp')).toHaveLength(2);
  });
});

type Action = { title: string; kind: string; edit: WorkspaceEdit };

/** Open a golden case, ask for the fixes of its first diagnostic, apply `title`, send it as a didChange; the new diagnostics. */
async function fix(file: string, title: string): Promise<{ text: string; diagnostics: readonly LspDiagnostic[] }> {
  const text = readFileSync(file, 'utf8');
  const ds = await openAs(file, text);
  const actions = await c.conn.sendRequest<Action[]>('textDocument/codeAction', { textDocument: { uri: uriOf(file) }, range: ds[0]!.range, context: { diagnostics: [ds[0]] } });
  const a = actions.find((x) => x.title === title);
  expect(a, `${file}: ${actions.map((x) => x.title).join('; ')}`).toBeDefined();
  expect(a!.kind).toBe('quickfix');
  const edits = a!.edit.changes[uriOf(file)]!;
  const published = await c.change(file, edits[0]!.range, edits[0]!.newText);
  return { text: applyEdits(text, edits), diagnostics: published.diagnostics };
}

describe('code actions', () => {
  it('add `where mask` to an unmasked reduction, which then checks', async () => {
    const r = await fix('test/cases/mask-unmasked-reduction.rlp', 'add `where mask`');
    expect(r.text).toContain('minimize mean(ratio, over [B, G, T], where mask)');
    expect(r.diagnostics).toEqual([]);
  });

  it('apply a did-you-mean', async () => {
    const r = await fix('test/cases/names-unknown-name.rlp', 'replace `ratoi` with `ratio`');
    expect(r.text).toContain('minimize mean(ratio, over [B, G, T], where mask)');
    expect(r.diagnostics).toEqual([]);
  });

  it('spread a coarser operand with expand(x, over G)', async () => {
    const r = await fix('test/cases/dims-mismatch.rlp', 'spread with `expand(..., over G)`');
    expect(r.text).toContain('x = logp - expand(per_prompt_token, over G)');
    expect(r.diagnostics.filter((d) => d.severity === 1)).toEqual([]);
  });

  it('spread a value to its declared type with expand(x, over T)', async () => {
    const r = await fix('test/cases/level-implicit-spread.rlp', 'spread with `expand(..., over T)`');
    expect(r.text).toContain('A: f32[B,G,T] = expand(reward - mean(reward, over G), over T)');
    expect(r.diagnostics.filter((d) => d.severity === 1)).toEqual([]);
  });

  it('offer nothing for a diagnostic without a mechanical fix', async () => {
    const ds = await openAs('test/cases/cycle-self.rlp', readFileSync('test/cases/cycle-self.rlp', 'utf8'));
    const actions = await c.conn.sendRequest<Action[]>('textDocument/codeAction', { textDocument: { uri: uriOf('test/cases/cycle-self.rlp') }, range: ds[0]!.range, context: { diagnostics: ds } });
    expect(actions).toEqual([]);
  });
});

describe('typing', () => {
  it('republishes diagnostics after each one-character edit', async () => {
    const file = 'test/cases/names-unknown-name.rlp';
    expect((await openAs(file, readFileSync(file, 'utf8'))).map((d) => d.code)).toEqual(['RLP2008']);
    const p = posOf(file, 'ratoi', 0, 3);
    const fixed = await c.change(file, { start: { line: p.line, character: p.character }, end: { line: p.line, character: p.character + 1 } }, '');
    // `rati` is still unknown, and the message follows the text.
    expect(fixed.diagnostics.map((d) => [d.code, d.message.split('\n')[0], d.data.help])).toEqual([['RLP2008', 'unknown name `rati`', 'did you mean `ratio`?']]);
    const after = { line: p.line, character: p.character + 1 };
    const done = await c.change(file, { start: after, end: after }, 'o');
    expect(done.diagnostics).toEqual([]);
  });
});

describe('outline and semantic tokens', () => {
  it('lists pipelines, their blocks and bindings', async () => {
    type Sym = { name: string; detail: string; children: Sym[] };
    const syms = await c.conn.sendRequest<Sym[]>('textDocument/documentSymbol', { textDocument: { uri: uriOf('stdlib/dr_grpo.rlp') } });
    expect(syms.map((s) => [s.name, s.detail])).toEqual([['dr_grpo', 'extends grpo']]);
    expect(syms[0]!.children.map((b) => [b.name, b.children.map((x) => x.name)])).toEqual([['params', ['agg']], ['advantage', ['A']], ['loss', []]]);
  });

  it('classifies names: a pipeline, a stage, a binding declaration, a prelude function, an input', async () => {
    const legend = ['namespace', 'type', 'typeParameter', 'parameter', 'variable', 'property', 'function', 'class', 'keyword'];
    const { data } = await c.conn.sendRequest<{ data: number[] }>('textDocument/semanticTokens/full', { textDocument: { uri: uriOf('stdlib/dr_grpo.rlp') } });
    const text = readFileSync('stdlib/dr_grpo.rlp', 'utf8').split('\n');
    const decoded: string[] = [];
    let line = 0;
    let ch = 0;
    for (let i = 0; i < data.length; i += 5) {
      line += data[i]!;
      ch = data[i]! === 0 ? ch + data[i + 1]! : data[i + 1]!;
      decoded.push(`${text[line]!.slice(ch, ch + data[i + 2]!)}:${legend[data[i + 3]!]}${data[i + 4]! & 1 ? ':decl' : ''}`);
    }
    expect(decoded.slice(0, 9)).toEqual(['dr_grpo:class:decl', 'grpo:class', 'params:keyword', 'agg:parameter:decl', 'choice:type', 'advantage:keyword', 'A:variable:decl', 'group_centered:function', 'reward:variable']);
  });
});

describe('the server process', () => {
  it('loads no TF.js: nothing the lsp command imports statically reaches @tensorflow', () => {
    const seen = new Set<string>();
    const visit = (f: string): void => {
      if (seen.has(f)) return;
      seen.add(f);
      const src = readFileSync(f, 'utf8');
      expect(src, f).not.toMatch(/from\s*["']@tensorflow|import\s*["']@tensorflow|require\(["']@tensorflow/);
      for (const m of src.matchAll(/(?:^|\n)import\s*(?:[^"';]*?from\s*)?["'](\.[^"']+)["']/g)) visit(resolve(f, '..', m[1]!));
    };
    const main = readFileSync('dist/rlp.mjs', 'utf8');
    const lsp = /import\("(\.\/chunks\/lsp-[A-Z0-9]+\.mjs)"\)/.exec(main);
    expect(lsp).not.toBeNull();
    visit(resolve('dist/rlp.mjs'));
    visit(resolve('dist', lsp![1]!));
    expect(seen.size).toBeGreaterThan(2);
  });
});
