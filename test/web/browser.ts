import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const SHOTS = path.join(ROOT, 'test-results', 'privacy-center');
const DIST_INDEX = path.join(ROOT, 'web', 'dist', 'index.html');

const newestMtime = (dir: string): number =>
  fs.readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const full = path.join(dir, e.name);
    return Math.max(max, e.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }, 0);

/** Builds web/ when the build is missing or older than its sources, so the test drives the current page. */
export function ensureWebBuild(): void {
  const sources = Math.max(newestMtime(path.join(ROOT, 'web', 'src')), fs.statSync(path.join(ROOT, 'web', 'index.html')).mtimeMs);
  if (fs.existsSync(DIST_INDEX) && fs.statSync(DIST_INDEX).mtimeMs >= sources) return;
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', path.join(ROOT, 'web', 'vite.config.ts')], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`web build failed:\n${result.stdout}\n${result.stderr}`);
}

export const CHROMIUM = '/usr/bin/chromium';

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
