/**
 * Headless Chromium for page tests: Debian's `chromium` driven by playwright-core, every network
 * request blocked (pages must work offline), console errors collected, screenshots saved under
 * test-artifacts/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where page tests save their screenshots. */
export const ARTIFACTS = resolve('test-artifacts');

/** Launch the system Chromium (installed by .ci/run). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
}

/** A page opened on a local file, with its console errors and the requests it tried to make off the machine. */
export interface OpenedPage {
  readonly page: Page;
  readonly errors: string[];
  readonly blocked: string[];
}

/** Open `file` with every request except the file itself aborted. */
export async function openOffline(browser: Browser, file: string, viewport = { width: 1400, height: 1000 }): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  const blocked: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  const url = `file://${resolve(file)}`;
  await page.route('**/*', (r) => {
    if (r.request().url() === url) return r.continue();
    blocked.push(r.request().url());
    return r.abort();
  });
  await page.goto(url);
  return { page, errors, blocked };
}

/** Save a screenshot of the page as test-artifacts/NAME.png; returns its path. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage, timeout: 30_000 });
  return path;
}
