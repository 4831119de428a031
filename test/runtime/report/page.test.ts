/**
 * The report of a short `rlp run` in headless Chromium, offline: every chart is drawn with one
 * point per step, the completions table holds each recorded sample, the pipeline graph and the
 * manifest are there, and no console errors.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartSpecs } from '../../../runtime/report/charts.js';
import { readRun } from '../../../runtime/report/read.js';
import { launchChromium, openOffline, screenshot } from '../../helpers/browser.js';

const STEPS = 3;
const out = join(mkdtempSync(join(tmpdir(), 'rlp-report-')), 'run');
let browser: Browser;

beforeAll(async () => {
  const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'run', 'grpo', '--steps', String(STEPS), '--prompts', '4', '--set', 'group=4', '--backend', 'cpu', '--out', out], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
});

describe('the report of rlp run grpo --steps 3', () => {
  it('is written by rlp run as DIR/report.html, and again by rlp report DIR', () => {
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const alt = join(out, 'again.html');
    const r = spawnSync(process.execPath, ['runtime/cli/rlp.mjs', 'report', out, '-o', alt], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${alt}\n`);
    expect(readFileSync(alt, 'utf8')).toBe(readFileSync(join(out, 'report.html'), 'utf8'));
  });

  it('renders offline with every chart drawn with one point per step, and no console errors', async () => {
    const run = readRun(out);
    const specs = chartSpecs(run.metrics);
    for (const t of ['reward', 'reward functions (mean)', 'KL to the reference', 'entropy', 'clip ratios', 'completion lengths', 'loss', 'gradient norm', 'throughput (tokens/s)']) {
      expect(specs.map((s) => s.title)).toContain(t);
    }
    const { page, errors, blocked } = await openOffline(browser, join(out, 'report.html'), { width: 1400, height: 1800 });
    await page.waitForSelector('body[data-ready="true"]');
    const charts = await page.$$eval('.chart', (els) => els.map((e) => ({
      title: e.getAttribute('data-title'), points: e.getAttribute('data-points'), series: e.getAttribute('data-series'), canvas: e.querySelector('canvas') !== null,
    })));
    expect(charts.map((c) => c.title)).toEqual(specs.map((s) => s.title));
    for (const [i, c] of charts.entries()) {
      expect(c.canvas).toBe(true);
      expect(c.points).toBe(String(STEPS));
      expect(c.series).toBe(String(specs[i]!.series.length));
    }
    await screenshot(page, 'report-grpo', true);
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    await page.close();
  });

  it('lists the recorded completions with their rewards and advantages, filterable by step', async () => {
    const run = readRun(out);
    expect(run.samples.length).toBe(STEPS * 2 * 4);
    const { page } = await openOffline(browser, join(out, 'report.html'));
    const rows = await page.$$eval('#samples-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.length).toBe(run.samples.length);
    const heads = await page.$$eval('#samples-table thead th', (ths) => ths.map((th) => th.textContent));
    expect(heads).toEqual(['step', 'group', 'prompt', 'completion', 'reward', 'correct', 'advantage']);
    const first = run.samples[0]!;
    expect(rows[0]!.slice(0, 4)).toEqual([String(first.step), String(first.group), first.prompt, first.completion]);
    expect(Number(rows[0]![4])).toBeCloseTo(first.reward, 3);
    expect(Number(rows[0]![6])).toBeCloseTo(first.advantage!, 3);
    await page.selectOption('#step-filter', '2');
    expect(await page.$$eval('#samples-table tbody tr:not([hidden])', (trs) => trs.length)).toBe(2 * 4);
    await page.close();
  });

  it('shows the pipeline graph and the run manifest', async () => {
    const { page } = await openOffline(browser, join(out, 'report.html'));
    expect(await page.$$eval('#graph-box svg g.node', (gs) => gs.map((g) => g.id))).toContain('b:advantage.A');
    expect(await page.textContent('#graph-box')).toContain('group = 4');
    const manifest = await page.textContent('#manifest-table');
    for (const k of ['pipeline', 'seed', 'params', 'data_fingerprint', 'node', 'written by rlp']) expect(manifest).toContain(k);
    await page.close();
  });
});
