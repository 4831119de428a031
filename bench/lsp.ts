/**
 * Typing latency of `rlp lsp`: the time from a one-character didChange of stdlib/preference.rlp
 * to the diagnostics of that version, through the real stdio transport (the bundled server);
 * and the same check in-process (Workspace.analysis), without the transport.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Workspace } from '../compiler/api/workspace.js';
import { LspClient } from '../test/helpers/lsp-client.js';
import { posOf } from '../test/helpers/lsp-text.js';

const FILE = 'stdlib/preference.rlp';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Alternately type `x` after a name and delete it again (an error appears, then goes). */
export async function benchTyping(edits = 41, warmup = 6): Promise<{ ms: number; min: number; inProcessMs: number; inProcessCpuMs: number; edits: number }> {
  const c = await LspClient.start();
  await c.open(FILE);
  const p = posOf(FILE, 'beta * delta', 0, 'beta'.length);
  const times: number[] = [];
  for (let i = 0; i < warmup + edits; i++) {
    const range = i % 2 === 0 ? { start: p, end: p } : { start: p, end: { line: p.line, character: p.character + 1 } };
    const t0 = performance.now();
    await c.change(FILE, range, i % 2 === 0 ? 'x' : '');
    if (i >= warmup) times.push(performance.now() - t0);
  }
  await c.stop();
  return { ms: median(times), min: Math.min(...times), ...benchInProcess(edits, warmup), edits };
}

/** Wall and CPU time of the check alone (CPU time is what a loaded machine does not inflate). */
function benchInProcess(edits: number, warmup: number): { inProcessMs: number; inProcessCpuMs: number } {
  const ws = new Workspace();
  const path = resolve(FILE);
  const text = readFileSync(path, 'utf8');
  const at = text.indexOf('beta * delta') + 'beta'.length;
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < warmup + edits; i++) {
    ws.set(path, i % 2 === 0 ? text.slice(0, at) + 'x' + text.slice(at) : text);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    ws.analysis(path);
    const c = process.cpuUsage(c0);
    if (i >= warmup) {
      times.push(performance.now() - t0);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  return { inProcessMs: median(times), inProcessCpuMs: median(cpu) };
}
