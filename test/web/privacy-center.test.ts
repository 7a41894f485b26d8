import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { axeSerious, BROWSER_TESTS, shot, startCenter, type Center } from './browser.js';

// The Privacy Center in a real browser (Debian's Chromium) against the real server on an ephemeral port and
// a fresh SQLite store, as a first-time visitor. The signed-in journey is in privacy-center-journey.test.ts.
// Screenshots of every page land in test-results/privacy-center/.

const PAGES = ['/', '/sign-in', '/sign-up', '/my-data', '/devices', '/consents', '/cookies', '/requests'] as const;
const shotName = (p: string): string => (p === '/' ? 'policy' : p.slice(1));

interface PolicyView {
  categories: { key: string; description: string; purposes: { legalBasis: string }[] }[];
}

describe.skipIf(!BROWSER_TESTS)('Privacy Center in a browser: a first visit', () => {
  let center: Center;
  let base: string;
  let firstVisit: Center['firstVisit'];
  let open: Center['open'];

  beforeAll(async () => {
    center = await startCenter();
    ({ base, firstVisit, open } = center);
  });
  afterAll(() => center?.close());

  /** What the server recorded for this browser (R-CHO-4: the server keeps the record). */
  const serverChoice = async (page: Page): Promise<unknown> =>
    page.evaluate('fetch("/v1/cookie-consent").then((r) => r.json()).then((v) => v.categories)');

  it('serves the page at / and for client routes, but keeps unknown API paths a problem+json 404', async () => {
    for (const p of ['/', '/devices', '/requests']) {
      const res = await fetch(base + p);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      // CSP-compatible: no inline script at all, only same-origin modules.
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
    const api = await fetch(`${base}/v1/no-such-thing`);
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await api.json()) as { code: string }).code).toBe('ROUTE_NOT_FOUND');
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    // No way out of web/dist: an encoded climb gets the page or a 404, never a file of the repository.
    for (const climb of ['/..%2f..%2fpackage.json', '/assets/..%2f..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json']) {
      const res = await fetch(base + climb);
      expect(await res.text(), climb).not.toContain('"name": "pledge"');
    }
  });

  it('R-CHO-1: "what we collect and why" lists every category of the policy, grouped, with purposes, basis, retention and recipients', async () => {
    const policy = (await (await fetch(`${base}/v1/policy`)).json()) as PolicyView;
    const page = await firstVisit();
    await open(page, '/');
    const shown = await page.locator('[data-category]').evaluateAll((els) => els.map((e) => e.getAttribute('data-category')));
    expect(new Set(shown)).toEqual(new Set(policy.categories.map((c) => c.key)));
    expect(shown).toHaveLength(policy.categories.length);
    // Grouped: more than one group heading, each category under one.
    expect(await page.locator('section.group > h2').count()).toBeGreaterThan(3);
    const email = page.locator('[data-category="user.contact.email"]');
    await expect.poll(() => email.locator('h3').textContent()).toBe('E-mail address');
    const emailText = (await email.textContent()) ?? '';
    expect(emailText).toContain('needed to provide what you asked for');
    expect(emailText).toContain('while the account is active');
    expect(emailText).toContain('Personal');
    const telemetry = (await page.locator('[data-category="user.telemetry"]').textContent()) ?? '';
    expect(telemetry).toContain('Not personal');
    expect(telemetry).toContain('only if you agree');
    await page.context().close();
  });

  it('R-CHO-4, R-TEL-5: the cookie banner appears on a first visit, "Reject all" as prominent as "Accept all", and no cookie is set before a choice', async () => {
    const page = await firstVisit();
    await open(page, '/');
    const banner = page.getByTestId('cookie-banner');
    await banner.waitFor();
    const reject = banner.getByRole('button', { name: 'Reject all' });
    const accept = banner.getByRole('button', { name: 'Accept all' });
    // Runs in the page (the root tsconfig has no DOM types, hence a string).
    const look = (l: typeof reject) =>
      l.evaluate(`(el) => {
        const s = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        return { w: Math.round(r.width), h: Math.round(r.height), bg: s.backgroundColor, color: s.color, size: s.fontSize, weight: s.fontWeight, border: s.borderTopWidth };
      }`);
    expect(await look(reject)).toEqual(await look(accept));
    // Reject comes first in the reading and tab order: refusing is never the harder path.
    expect(await page.evaluate('document.querySelector("[data-testid=reject-all]").compareDocumentPosition(document.querySelector("[data-testid=accept-all]")) & 4')).toBe(4);
    expect(await page.context().cookies()).toEqual([]);
    expect(await page.evaluate('Object.keys(localStorage)')).toEqual([]);
    await shot(page, 'cookie-banner');

    // Keyboard only: after the skip link, the very next stop is "Reject all".
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.dataset.testid')).toBe('reject-all');
    await page.keyboard.press('Enter');
    await banner.waitFor({ state: 'detached' });
    // After "Reject all": only what is necessary — no preference, analytics or marketing storage.
    expect(await page.evaluate('Object.keys(localStorage).filter((k) => k !== "pledge.cookie-choice")')).toEqual([]);
    // The only cookie is the server's signed record of the choice itself (necessary, httpOnly).
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => c.name).filter((n) => n !== 'pledge_consent')).toEqual([]);
    expect(await serverChoice(page)).toEqual({ necessary: true, preferences: false, analytics: false, marketing: false });
    // The choice holds: a reload does not ask again.
    await open(page, '/');
    expect(await page.getByTestId('cookie-banner').count()).toBe(0);
    await page.context().close();
  });

  it('R-TEL-5: Global Privacy Control is detected and shown as honoured; "Accept all" leaves marketing off', async () => {
    const page = await firstVisit({ extraHTTPHeaders: { 'Sec-GPC': '1' } });
    await page.addInitScript('Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true })');
    await open(page, '/');
    await expect.poll(() => page.getByTestId('gpc-banner').textContent()).toContain('Global Privacy Control');
    await page.getByRole('button', { name: 'Accept all' }).click();
    await page.getByTestId('cookie-banner').waitFor({ state: 'detached' });
    await open(page, '/cookies');
    const status = page.getByTestId('gpc-status');
    expect(await status.getAttribute('data-gpc')).toBe('honoured');
    expect(await status.textContent()).toContain('We honour it');
    const marketing = page.getByLabel('Marketing');
    expect(await marketing.isChecked()).toBe(false);
    expect(await marketing.isDisabled()).toBe(true);
    expect(await page.getByLabel('Analytics').isChecked()).toBe(true);
    expect(JSON.parse((await page.evaluate('localStorage.getItem("pledge.cookie-choice")')) as string)).toMatchObject({ marketing: false, analytics: true });
    expect(await serverChoice(page)).toEqual({ necessary: true, preferences: true, analytics: true, marketing: false });
    await shot(page, 'cookies-gpc');
    await page.context().close();
  });

  it('R-CHO-4: switches the whole page to Simplified Chinese and back; remembers the language only with consent to preferences', async () => {
    const page = await firstVisit();
    await open(page, '/');
    await page.getByRole('button', { name: 'Switch the page to Simplified Chinese' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('我们收集什么、为什么收集');
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-Hans');
    expect(await page.getByRole('navigation').textContent()).toContain('我的数据');
    expect(await page.locator('[data-category="user.contact.email"] h3').textContent()).toBe('电子邮箱');
    expect(await page.getByTestId('cookie-banner').textContent()).toContain('全部拒绝');
    await shot(page, 'policy-zh');
    expect((await axeSerious(page)).map((v) => v.id)).toEqual([]);
    // No choice made yet: the language is not remembered (that is a preference cookie's job, R-CHO-4).
    expect(await page.evaluate('Object.keys(localStorage)')).toEqual([]);
    await open(page, '/');
    expect(await page.locator('h1').textContent()).toBe('What we collect and why');
    // With preferences accepted, it is.
    await page.getByRole('button', { name: 'Switch the page to Simplified Chinese' }).click();
    await page.getByRole('button', { name: '全部接受' }).click();
    await page.getByTestId('cookie-banner').waitFor({ state: 'detached' });
    await open(page, '/');
    expect(await page.locator('h1').textContent()).toBe('我们收集什么、为什么收集');
    await page.getByRole('button', { name: '将页面切换为英文' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('What we collect and why');
    await page.context().close();
  });

  it('every page: no serious or critical axe violation, usable at 360 px without sideways scrolling, keyboard reaches the content first', async () => {
    const failures: string[] = [];
    for (const width of [1280, 360]) {
      const page = await firstVisit({ viewport: { width, height: 800 } });
      for (const p of PAGES) {
        await open(page, p);
        // axe scans each page once, at desktop width (time budget); the 360 px pass checks the layout and photographs it.
        if (width === 1280) for (const v of await axeSerious(page)) failures.push(`${width}px ${p}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
        expect(await page.evaluate('document.documentElement.scrollWidth'), `${p} at ${width}px`).toBeLessThanOrEqual(width);
        await shot(page, `${shotName(p)}-${width}`);
      }
      // Focus order: the first Tab lands on the skip link, which leads into <main>.
      await open(page, '/');
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.className')).toBe('skip');
      await page.keyboard.press('Enter');
      expect(await page.evaluate('document.activeElement.id')).toBe('main');
      await page.context().close();
    }
    expect(failures).toEqual([]);
  });

  it('loads nothing from a third party and logs no error (CSP holds) on any page visited', () => {
    expect(center.watches.length).toBeGreaterThan(3);
    expect(center.watches.flatMap((w) => w.foreign)).toEqual([]);
    expect(center.watches.flatMap((w) => w.errors)).toEqual([]);
  });
});
