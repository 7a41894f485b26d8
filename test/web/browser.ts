import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { createStack, type TestStack } from '../support/engines.js';
import { ensureWebBuild, ROOT } from './web-build.js';

export const SHOTS = path.join(ROOT, 'test-results', 'privacy-center');

export const CHROMIUM = '/usr/bin/chromium';
/** Skipped only on a developer machine without Chromium; in CI (CI=true) a missing browser fails the run. */
export const BROWSER_TESTS = fs.existsSync(CHROMIUM) || Boolean(process.env.CI);

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

/** Everything a page did that the Privacy Center promises never to do. */
export interface Watch {
  /** Requests to any origin other than the server's own (R: no request to a third party). */
  readonly foreign: string[];
  /** Console errors: CSP violations, uncaught exceptions. */
  readonly errors: string[];
}

/** A context whose pages report foreign requests and console errors into `watch`. */
export async function watchedContext(browser: Browser, base: string, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; watch: Watch }> {
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 }, ...options });
  const watch: Watch = { foreign: [], errors: [] };
  const origin = new URL(base).origin;
  context.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) watch.foreign.push(url);
  });
  context.on('page', (page) => observe(page, watch));
  return { context, watch };
}

function observe(page: Page, watch: Watch): void {
  page.on('console', (message) => {
    // A 4xx answer from an API the page asked about is logged by Chromium as a resource error; it is
    // expected (e.g. "not signed in"), and the page shows it. Anything else is a defect.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) watch.errors.push(message.text());
  });
  page.on('pageerror', (error) => watch.errors.push(String(error)));
}

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core in the page and returns the serious and critical violations. The script is evaluated
 * through the DevTools protocol, so the page's CSP (script-src 'self') stays as strict as in production.
 */
export async function axeSerious(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)')) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** The real server on an ephemeral port with a fresh SQLite store, and a browser to drive it. */
export interface Center {
  readonly base: string;
  readonly stack: TestStack;
  /** What every page opened so far did that it must not (foreign requests, console errors). */
  readonly watches: Watch[];
  /** A fresh browser profile (no cookies, no storage): a first visit. */
  firstVisit(options?: BrowserContextOptions): Promise<Page>;
  /** Opens a path and waits until the page is settled: cookie question known, nothing still loading. */
  open(page: Page, path: string): Promise<void>;
  close(): Promise<void>;
}

export async function startCenter(): Promise<Center> {
  ensureWebBuild();
  const stack = await createStack('sqlite');
  await stack.app.listen({ port: 0, host: '127.0.0.1' });
  const address = stack.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const base = `http://127.0.0.1:${address.port}`;
  const browser = await launch();
  const watches: Watch[] = [];
  // Polled through evaluate: waitForFunction would eval() in the page, which the CSP rightly forbids.
  const settled = `document.body.dataset.cookieChoice !== 'pending' && !/Loading…|正在加载…/.test(document.querySelector('main').innerText)`;
  return {
    base,
    stack,
    watches,
    async firstVisit(options = {}) {
      const { context, watch } = await watchedContext(browser, base, options);
      watches.push(watch);
      return context.newPage();
    },
    async open(page, path) {
      await page.goto(base + path);
      await page.locator('h1').first().waitFor();
      await expect.poll(() => page.evaluate(settled), { interval: 50, timeout: 10_000 }).toBe(true);
    },
    async close() {
      await browser.close();
      await stack.close();
    },
  };
}
