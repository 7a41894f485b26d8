import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createStack, type TestStack } from '../support/engines.js';
import { axeSerious, CHROMIUM, ensureWebBuild, launch, shot, watchedContext, type Watch } from './browser.js';

// The Privacy Center in a real browser (Debian's Chromium) against the real server on an ephemeral port
// and a fresh SQLite store. Screenshots of every page land in test-results/privacy-center/.

const PAGES = ['/', '/sign-in', '/sign-up', '/my-data', '/devices', '/consents', '/cookies', '/requests'] as const;
const shotName = (p: string): string => (p === '/' ? 'policy' : p.slice(1));

interface PolicyView {
  categories: { key: string; description: string; purposes: { legalBasis: string }[] }[];
}

// Skipped only on a developer machine without Chromium; in CI (CI=true) a missing browser fails the run.
describe.skipIf(!fs.existsSync(CHROMIUM) && !process.env.CI)('Privacy Center in a browser', () => {
  let stack: TestStack;
  let base: string;
  let browser: Browser;
  const watches: Watch[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    stack = await createStack('sqlite');
    await stack.app.listen({ port: 0, host: '127.0.0.1' });
    const address = stack.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${address.port}`;
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** A fresh browser profile (no cookies, no storage): a first visit. */
  async function firstVisit(options: Parameters<typeof watchedContext>[2] = {}): Promise<Page> {
    const { context, watch } = await watchedContext(browser, base, options);
    watches.push(watch);
    return context.newPage();
  }

  async function open(page: Page, path: string): Promise<void> {
    await page.goto(base + path);
    await page.locator('h1').first().waitFor();
    // Settled: the cookie question is known and no section is still loading.
    // (Polled through evaluate: waitForFunction would eval() in the page, which the CSP rightly forbids.)
    const settled = `document.body.dataset.cookieChoice !== 'pending' && !/Loading…|正在加载…/.test(document.querySelector('main').innerText)`;
    await expect.poll(() => page.evaluate(settled), { interval: 50, timeout: 10_000 }).toBe(true);
  }

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

  it('switches the whole page to Simplified Chinese and back', async () => {
    const page = await firstVisit();
    await open(page, '/');
    await page.getByRole('button', { name: 'Switch the page to Simplified Chinese' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('我们收集什么、为什么收集');
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-Hans');
    expect(await page.getByRole('navigation').textContent()).toContain('我的数据');
    expect(await page.locator('[data-category="user.contact.email"] h3').textContent()).toBe('电子邮箱');
    expect(await page.getByTestId('cookie-banner').textContent()).toContain('全部拒绝');
    await shot(page, 'policy-zh');
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
        for (const v of await axeSerious(page)) failures.push(`${width}px ${p}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
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

  describe('signed in: the whole journey of one person', () => {
    const person = { name: 'Mei Chen', email: `mei.${Date.now()}@example.com`, password: 'correct horse battery', phone: '+8613800138000' };
    let page: Page;
    let token = '';
    let deviceToken = '';
    const axeFindings: string[] = [];
    const apiCall = async (method: string, url: string, body?: unknown, auth = `Bearer ${token}`): Promise<{ status: number; json: Record<string, unknown> }> => {
      const res = await fetch(base + url, { method, headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const signInForm = (p: Page) => p.getByTestId('sign-in-form');
    const sendUsageEvent = () => apiCall('POST', '/v1/telemetry/events', [{ event: 'app_open', fields: { screen: 'home' } }], `Device ${deviceToken}`);
    /** Every signed-in page is scanned and photographed too. */
    const check = async (name: string): Promise<void> => {
      for (const v of await axeSerious(page)) axeFindings.push(`${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      await shot(page, `${name}-signed-in`);
      // The same page with real data at 360 px: nothing may force sideways scrolling.
      await page.setViewportSize({ width: 360, height: 800 });
      expect(await page.evaluate('document.documentElement.scrollWidth'), `${name} at 360px`).toBeLessThanOrEqual(360);
      await shot(page, `${name}-signed-in-360`);
      await page.setViewportSize({ width: 1280, height: 900 });
    };

    afterAll(() => expect(axeFindings).toEqual([]));

    it('R-ACC-1, R-DSR-1: sign up, sign in, and see My data', async () => {
      page = await firstVisit();
      await open(page, '/sign-up');
      await page.getByRole('button', { name: 'Reject all' }).click();
      const form = page.getByTestId('sign-up-form');
      const fill: [string, string][] = [
        ['Name', person.name], ['E-mail', person.email], ['Phone number', person.phone], ['Street and number', '88 Century Avenue'],
        ['City', 'Shanghai'], ['Postal code', '200120'], ['Country (two letters', 'CN'], ['Date of birth', '1990-04-02'], ['Country or region', 'CN'],
        ['Language', 'en'], ['Time zone', 'Asia/Shanghai'], ['Password', person.password],
      ];
      for (const [label, value] of fill) await form.getByLabel(label).fill(value);
      await form.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${base}/my-data`);
      await expect.poll(() => page.getByLabel('Name').inputValue()).toBe(person.name);
      expect(await page.getByLabel('E-mail').inputValue()).toBe(person.email);
      // Sign out, then in again with the password: the token lives in sessionStorage only.
      await page.getByRole('button', { name: 'Sign out' }).click();
      expect(await page.evaluate('sessionStorage.getItem("pledge.token")')).toBeNull();
      await open(page, '/sign-in');
      await signInForm(page).getByLabel('E-mail or phone number').fill(person.email);
      await signInForm(page).getByLabel('Password').fill(person.password);
      await signInForm(page).getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${base}/my-data`);
      await expect.poll(() => page.getByLabel('Name').inputValue()).toBe(person.name);
      token = (await page.evaluate('sessionStorage.getItem("pledge.token")')) as string;
      expect(token).toBeTruthy();
      await check('my-data');
    });

    it('R-CHO-2: the User Experience Program switch lets the very next telemetry event in, with a receipt to download', async () => {
      const activated = await apiCall('POST', '/v1/me/devices', { event: 'activation', deviceId: 'purifier-4-0001', imei: '490154203237518', model: 'Air Purifier 4', firmware: '1.2.3', location: { lat: 31.23037, lon: 121.4737 } });
      expect(activated.status).toBeLessThan(300);
      deviceToken = String(activated.json.deviceToken);
      expect((await sendUsageEvent()).json.code).toBe('CONSENT_MISSING');
      await open(page, '/consents');
      const uep = page.locator('[data-purpose="user_experience_program"]');
      const toggle = uep.getByRole('switch');
      expect(await toggle.getAttribute('aria-checked')).toBe('false');
      await toggle.click();
      await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true');
      const accepted = await sendUsageEvent();
      expect(accepted.status).toBe(200);
      expect(accepted.json.accepted).toBe(1);
      const [download] = await Promise.all([page.waitForEvent('download'), uep.getByRole('button', { name: 'Download receipt' }).click()]);
      const receipt = JSON.parse(fs.readFileSync(await download.path(), 'utf8')) as { jws: string };
      expect(receipt.jws.split('.')).toHaveLength(3);
      await check('consents');
      // And off again: the next event is refused at once.
      await toggle.click();
      await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false');
      expect((await sendUsageEvent()).json.code).toBe('CONSENT_WITHDRAWN');
    });

    it('R-CHO-3: choosing "Region" for a device coarsens its stored location at once; no history exists', async () => {
      const before = ((await apiCall('GET', '/v1/me/devices')).json.devices as { location: { lat: number; lon: number; precision: string } }[])[0]!;
      expect(before.location.precision).toBe('city');
      await open(page, '/devices');
      expect(await page.getByTestId('no-history').textContent()).toContain('no location history');
      const card = page.locator('[data-device]').first();
      expect(await card.textContent()).toContain('Air Purifier 4');
      expect(await card.textContent()).toContain('1.2.3');
      await card.getByLabel('Region', { exact: true }).check();
      await expect.poll(() => card.getByTestId('stored-location').textContent()).toContain('Region');
      const after = ((await apiCall('GET', '/v1/me/devices')).json.devices as { location: { lat: number; lon: number; precision: string } }[])[0]!;
      expect(after.location.precision).toBe('region');
      expect(after.location).not.toEqual(before.location);
      expect(await card.getByTestId('stored-location').textContent()).toContain(`${after.location.lat}, ${after.location.lon}`);
      await check('devices');
    });

    it('R-DSR-3, R-DSR-6, R-DSR-8: export asks for the password again, shows status and due date, and the downloaded JSON opens', async () => {
      await open(page, '/requests');
      await page.getByTestId('request-export').click();
      const dialog = page.getByTestId('step-up');
      await dialog.waitFor({ state: 'visible' });
      await dialog.getByLabel('Password').fill(person.password);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.waitFor({ state: 'hidden' });
      const row = page.locator('tr[data-request="export"]');
      await row.waitFor();
      expect(await row.locator('td').nth(3).textContent()).not.toBe('—');
      // The export is built by a job: reload until its download appears.
      const json = row.getByTestId('download-json');
      await expect.poll(async () => (await json.count()) || (await open(page, '/requests'), 0), { timeout: 20_000, interval: 500 }).toBe(1);
      const [download] = await Promise.all([page.waitForEvent('download'), json.click()]);
      const exported = fs.readFileSync(await download.path(), 'utf8');
      expect(exported).toContain(person.name);
      expect(() => JSON.parse(exported)).not.toThrow();
      const [htmlDownload] = await Promise.all([page.waitForEvent('download'), row.getByTestId('download-html').click()]);
      expect(fs.readFileSync(await htmlDownload.path(), 'utf8')).toContain(person.name);
      await check('requests');
    });

    it('R-DSR-2, R-DSR-7: erasing the account lists its consequences and legal holds, then sign-in fails', async () => {
      // An order: its invoice is what tax law makes us keep after erasure.
      const address = { name: person.name, line1: '88 Century Avenue', postalCode: '200120', city: 'Shanghai', country: 'CN' };
      const order = await apiCall('POST', '/v1/me/orders', { currency: 'CNY', items: [{ sku: 'AP4', title: 'Air Purifier 4', quantity: 1, unitPriceCents: 129_900 }], delivery: { address }, billingAddress: address });
      expect(order.status).toBeLessThan(300);
      await open(page, '/requests');
      expect(await page.getByText('cannot sign in again').count()).toBe(1);
      const holds = page.getByTestId('legal-holds').locator('li');
      expect(await holds.count()).toBe(1);
      expect(await holds.first().textContent()).toContain('tax law');
      const erase = page.getByTestId('erase-account');
      expect(await erase.isDisabled()).toBe(true);
      await page.getByLabel('I understand that this cannot be undone').check();
      await erase.click();
      await expect.poll(() => page.getByText('Your account is erased').count()).toBe(1);
      // The holds that remain are listed to the person with reason and end date.
      expect(await page.locator('#holds-kept + ul li').first().textContent()).toContain('tax law requires invoices to be kept');
      await shot(page, 'erased');
      expect(await page.evaluate('sessionStorage.getItem("pledge.token")')).toBeNull();
      expect((await apiCall('POST', '/v1/sessions', { login: person.email, password: person.password }, '')).status).toBe(401);
      await open(page, '/sign-in');
      await signInForm(page).getByLabel('E-mail or phone number').fill(person.email);
      await signInForm(page).getByLabel('Password').fill(person.password);
      await signInForm(page).getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByText('Sign-in failed').count()).toBe(1);
      await page.context().close();
    });
  });

  it('loads nothing from a third party and logs no error (CSP holds) on any page visited', () => {
    expect(watches.length).toBeGreaterThan(3);
    expect(watches.flatMap((w) => w.foreign)).toEqual([]);
    expect(watches.flatMap((w) => w.errors)).toEqual([]);
  });
});
