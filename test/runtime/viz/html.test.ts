/**
 * `rlp viz -o X.html` in headless Chromium, offline: the page renders without console errors,
 * draws one element per IR node (op view) and per binding (binding view), shows a node's op,
 * type, stage and source on click, zooms, and finds bindings by name.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFiles } from '../../../compiler/compile.js';
import { launchChromium, openOffline, screenshot } from '../../helpers/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'rlp-viz-html-'));
const page = join(dir, 'grpo.html');
const grpo = compileFiles(['stdlib/grpo.rlp']).pipelines.find((p) => p.name === 'grpo')!;
let browser: Browser;

beforeAll(async () => {
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'viz', 'grpo', '-o', page], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(`${page}\n`);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe('the rlp viz HTML page of grpo', () => {
  it('renders offline with no console errors and saves a screenshot', async () => {
    const { page: p, errors, blocked } = await openOffline(browser, page);
    await p.waitForSelector('.view[data-view="bindings"] svg g.node');
    await screenshot(p, 'viz-grpo-bindings');
    await p.click('button[data-view="ops"]');
    await screenshot(p, 'viz-grpo-ops');
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    await p.close();
  });

  it('draws one element per IR node in the op view and one per binding in the binding view', async () => {
    const { page: p } = await openOffline(browser, page);
    const ops = await p.$$eval('.view[data-view="ops"] g.node', (gs) => gs.map((g) => g.id));
    expect(ops.length).toBe(grpo.raw.nodes.size);
    expect(new Set(ops)).toEqual(new Set([...grpo.raw.nodes.keys()].map((id) => `n${id}`)));
    const bindings = await p.$$eval('.view[data-view="bindings"] g.node', (gs) => gs.map((g) => g.id));
    expect(bindings.filter((id) => id.startsWith('b:')).sort()).toEqual(grpo.raw.outputs.map((o) => `b:${o.name}`).sort());
    await p.close();
  });

  it('shows an op node\'s op, type, stage and source span with its line when clicked', async () => {
    const { page: p } = await openOffline(browser, page);
    const ratio = grpo.raw.outputs.find((o) => o.name === 'loss.ratio')!.node;
    await p.click('button[data-view="ops"]');
    await p.click(`[id="n${ratio}"]`);
    expect(await p.textContent('#info .op')).toBe('exp');
    expect(await p.textContent('#info .type')).toBe('f32[B,G,T]@mask');
    expect(await p.textContent('#info .stage')).toBe('loss');
    expect(await p.textContent('#info code.text')).toBe('exp(logp - old_logp)');
    expect(await p.textContent('#info pre.line')).toBe('    ratio = exp(logp - old_logp)');
    expect(await p.textContent('#info .loc')).toMatch(/grpo\.rlp:\d+:13$/);
    await screenshot(p, 'viz-grpo-ops-clicked');
    await p.close();
  });

  it('shows a binding\'s whole statement when clicked in the binding view', async () => {
    const { page: p } = await openOffline(browser, page);
    await p.click('[id="b:advantage.A"]');
    expect(await p.textContent('#info h2')).toBe('advantage.A');
    expect(await p.textContent('#info code.text')).toBe('A = group_advantage(reward, eps, singleton_verl)');
    expect(await p.textContent('#info .notes')).toContain('eps = 0.000001');
    await p.close();
  });

  it('finds bindings by name and zooms with the wheel', async () => {
    const { page: p } = await openOffline(browser, page);
    await p.fill('#search', 'surrogate');
    expect(await p.$$eval('.view[data-view="bindings"] g.node.hit', (gs) => gs.map((g) => g.id))).toEqual(['b:loss.surrogate']);
    expect(await p.textContent('#hits')).toBe('1 found');
    await p.press('#search', 'Enter');
    expect(await p.textContent('#info h2')).toBe('loss.surrogate');
    const before = await p.getAttribute('.view[data-view="bindings"] svg', 'viewBox');
    await p.mouse.move(400, 400);
    await p.mouse.wheel(0, -300);
    const after = await p.getAttribute('.view[data-view="bindings"] svg', 'viewBox');
    expect(after).not.toBe(before);
    const width = (vb: string | null): number => Number(vb!.split(' ')[2]);
    expect(width(after)).toBeLessThan(width(before));
    await p.close();
  });
});
