import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { axeSerious, BROWSER_TESTS, shot, startCenter, type Center } from './browser.js';
import { staffKey } from '../support/people.js';

// Issue 7's browser journey, against the real server and a fresh store: sign up → correct My data → switch the
// User Experience Program on and see the next telemetry event accepted → coarsen a device's location → export
// and open the file → delete one part → erase the account and see sign-in fail. Each step is one test; they run
// in order on one page. Screenshots (desktop and 360 px) land in test-results/privacy-center/.

describe.skipIf(!BROWSER_TESTS)('Privacy Center in a browser: the whole journey of one person', () => {
  let center: Center;
  let base: string;
  let firstVisit: Center['firstVisit'];
  let open: Center['open'];

  beforeAll(async () => {
    center = await startCenter();
    ({ base, firstVisit, open } = center);
  });
  afterAll(() => center?.close());

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

  it('R-ACC-1, R-DSR-1: sign up, sign in, see My data and correct it', async () => {
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
    // Sign-out first revokes the token on the server, then forgets it: wait for that, do not race it.
    await expect.poll(() => page.evaluate('sessionStorage.getItem("pledge.token")')).toBeNull();
    await open(page, '/sign-in');
    await signInForm(page).getByLabel('E-mail or phone number').fill(person.email);
    await signInForm(page).getByLabel('Password').fill(person.password);
    await signInForm(page).getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/my-data`);
    await expect.poll(() => page.getByLabel('Name').inputValue()).toBe(person.name);
    token = (await page.evaluate('sessionStorage.getItem("pledge.token")')) as string;
    expect(token).toBeTruthy();
    // Correct a field: the change is stored, and shown again after a reload.
    await page.getByLabel('City').fill('Pudong, Shanghai');
    await page.getByTestId('profile-form').getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('profile-form').getByText('Saved.').count()).toBe(1);
    expect(((await apiCall('GET', '/v1/me')).json.postalAddress as { city: string }).city).toBe('Pudong, Shanghai');
    await open(page, '/my-data');
    expect(await page.getByLabel('City').inputValue()).toBe('Pudong, Shanghai');
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

  it('R-DSR-2: My data lists every store, and one part (a shared contact) can be deleted on its own', async () => {
    const shared = await apiCall('POST', '/v1/me/contacts', { name: 'Li Wei', email: `li.${Date.now()}@example.com`, reason: 'share' });
    expect(shared.status).toBe(201);
    await open(page, '/my-data');
    const contacts = page.locator('details', { has: page.locator('summary', { hasText: /^contacts/ }) });
    await contacts.locator('summary').click();
    const item = contacts.locator('li', { hasText: 'Li Wei' });
    await item.getByRole('button', { name: 'Delete this shared contact' }).click();
    await item.waitFor({ state: 'detached' });
    expect((await apiCall('GET', '/v1/me/contacts')).json.contacts).toEqual([]);
    const filed = (await apiCall('GET', '/v1/me/requests')).json as unknown as { type: string; status: string }[];
    expect(filed.find((r) => r.type === 'erase_partial')?.status).toBe('completed');
  });

  it("R-DSR-2: a delivered order's delivery address is offered for deletion, an undelivered one is not", async () => {
    const address = { name: person.name, line1: '1 Delivery Lane', postalCode: '200120', city: 'Shanghai', country: 'CN' };
    const place = () => apiCall('POST', '/v1/me/orders', { currency: 'CNY', items: [{ sku: 'F2', title: 'Fan 2', quantity: 1, unitPriceCents: 59_900 }], delivery: { address }, billingAddress: address });
    const delivered = (await place()).json.id as string;
    const pending = (await place()).json.id as string;
    const staff = await staffKey(center.stack, 'shipping');
    const shipped = await fetch(`${base}/v1/admin/orders/${delivered}`, { method: 'PATCH', headers: { 'x-api-key': staff, 'content-type': 'application/json' }, body: JSON.stringify({ deliveryStatus: 'delivered' }) });
    expect(shipped.status).toBe(200);
    await open(page, '/my-data');
    const orders = page.locator('details', { has: page.locator('summary', { hasText: /^orders/ }) });
    await orders.locator('summary').click();
    const button = { name: 'Delete the delivery address of this delivered order' };
    expect(await orders.locator('li', { hasText: pending }).getByRole('button', button).count()).toBe(0);
    await orders.locator('li', { hasText: delivered }).getByRole('button', button).click();
    const deliveryOf = async (id: string) => ((await apiCall('GET', '/v1/me/orders')).json.orders as { id: string; delivery: unknown }[]).find((o) => o.id === id)?.delivery;
    await expect.poll(() => deliveryOf(delivered)).toBeNull();
    expect(await deliveryOf(pending)).toMatchObject({ address: { line1: '1 Delivery Lane' } });
  });

  it('R-DSR-2, R-DSR-7: erasing the account lists its consequences and legal holds, then sign-in fails', async () => {
    // An order: its invoice is what tax law makes us keep after erasure.
    const address = { name: person.name, line1: '88 Century Avenue', postalCode: '200120', city: 'Shanghai', country: 'CN' };
    const order = await apiCall('POST', '/v1/me/orders', { currency: 'CNY', items: [{ sku: 'AP4', title: 'Air Purifier 4', quantity: 1, unitPriceCents: 129_900 }], delivery: { address }, billingAddress: address });
    expect(order.status).toBeLessThan(300);
    await open(page, '/requests');
    expect(await page.getByText('cannot sign in again').count()).toBe(1);
    const holds = page.getByTestId('legal-holds').locator('li');
    // One hold per order placed in this journey (this one and the two of the delivery test).
    expect(await holds.count()).toBe(((await apiCall('GET', '/v1/me/orders')).json.orders as unknown[]).length);
    for (const hold of await holds.all()) expect(await hold.textContent()).toContain('tax law');
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

  it('loads nothing from a third party, logs no error (CSP holds), and no page had a serious axe finding', () => {
    expect(center.watches.flatMap((w) => w.foreign)).toEqual([]);
    expect(center.watches.flatMap((w) => w.errors)).toEqual([]);
    expect(axeFindings).toEqual([]);
  });
});
