import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TCString } from '@iabtcf/core';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { systemContext } from '../../src/internal/context.js';

const ctx = systemContext('test');
const cookieOf = (res: { cookies: { name: string; value: string }[] }) => res.cookies.find((c) => c.name === 'pledge_consent');

describe.each(ENGINES)('web consent signals on %s', (kind) => {
  let stack: TestStack;
  const get = (headers: Record<string, string> = {}) => stack.app.inject({ method: 'GET', url: '/v1/cookie-consent', headers });
  const put = (payload: object, headers: Record<string, string> = {}) => stack.app.inject({ method: 'PUT', url: '/v1/cookie-consent', payload, headers });

  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  it('R-CHO-4: a visitor starts with only necessary cookies; choices live in a signed cookie and can be withdrawn', async () => {
    const first = await get();
    expect(first.statusCode).toBe(200);
    expect(first.json().categories).toEqual({ necessary: true, preferences: false, analytics: false, marketing: false });
    expect(first.json().consentMode).toMatchObject({ ad_storage: 'denied', analytics_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied', security_storage: 'granted' });
    const accepted = await put({ analytics: true, preferences: true });
    expect(accepted.statusCode).toBe(200);
    const cookie = cookieOf(accepted)!;
    expect(cookie.value).toMatch(/^p1a1m0o0t\d+\./);
    const again = await get({ cookie: `pledge_consent=${cookie.value}` });
    expect(again.json().categories).toEqual({ necessary: true, preferences: true, analytics: true, marketing: false });
    expect(again.json().consentMode).toMatchObject({ analytics_storage: 'granted', ad_storage: 'denied', functionality_storage: 'granted' });
    // A forged cookie (signature no longer matches) counts as no choice.
    const forged = cookie.value.replace('m0', 'm1');
    expect((await get({ cookie: `pledge_consent=${forged}` })).json().categories.marketing).toBe(false);
    const withdrawn = await put({ analytics: false }, { cookie: `pledge_consent=${cookie.value}` });
    expect(withdrawn.json().categories).toEqual({ necessary: true, preferences: true, analytics: false, marketing: false });
  });

  it('R-TEL-5: Sec-GPC: 1 opts the browser out of marketing cookies; opting in again needs the confirmation step', async () => {
    const marketing = cookieOf(await put({ marketing: true }))!;
    const withGpc = await get({ cookie: `pledge_consent=${marketing.value}`, 'sec-gpc': '1' });
    expect(withGpc.json()).toMatchObject({ gpc: true, categories: { marketing: false }, consentMode: { ad_storage: 'denied', ad_user_data: 'denied' } });
    const refused = await put({ marketing: true }, { 'sec-gpc': '1' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('GPC_CONFIRMATION_REQUIRED');
    const confirmed = await put({ marketing: true, confirmOverrideGpc: true }, { 'sec-gpc': '1' });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().categories.marketing).toBe(true);
    const later = await get({ cookie: `pledge_consent=${cookieOf(confirmed)!.value}`, 'sec-gpc': '1' });
    expect(later.json().categories.marketing).toBe(true);
    const gpc = await stack.app.inject({ method: 'GET', url: '/.well-known/gpc.json' });
    expect(gpc.json()).toMatchObject({ gpc: true });
  });

  it('R-TEL-5: for a signed-in subject, GPC refuses every gpcOptOut purpose with source gpc; an explicit opt-in overrides it only when confirmed', async () => {
    const s = randomUUID();
    const { consents, cookieConsent, decisions } = stack.services.consent;
    const db = stack.services.engine.db;
    await consents.set(db, ctx, { subjectId: s, purpose: 'personalised_ads', granted: true, source: 'app', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    expect(await cookieConsent.applyGpc(db, ctx, s)).toEqual(expect.any(String));
    const history = await consents.history(db, s);
    const gpcEvents = history.filter((e) => e.source === 'gpc').map((e) => `${e.purpose}:${e.status}`).sort();
    expect(gpcEvents).toEqual(['cookies_marketing:refused', 'marketing_messages:refused', 'personalised_ads:withdrawn']);
    expect((await decisions.decide({ subjectId: s, purpose: 'personalised_ads', category: 'user.contact.email' })).reason).toBe('CONSENT_WITHDRAWN');
    // A second signal changes nothing more.
    expect(await cookieConsent.applyGpc(db, ctx, s)).toBeNull();
    await expect(consents.set(db, ctx, { subjectId: s, purpose: 'personalised_ads', granted: true, source: 'web', collectionMethod: 'toggle', gpc: true, confirmOverrideGpc: false })).rejects.toMatchObject({ code: 'GPC_CONFIRMATION_REQUIRED' });
    await consents.set(db, ctx, { subjectId: s, purpose: 'personalised_ads', granted: true, source: 'web', collectionMethod: 'toggle', gpc: true, confirmOverrideGpc: true });
    expect(await cookieConsent.applyGpc(db, ctx, s)).toBeNull();
    expect((await decisions.decide({ subjectId: s, purpose: 'personalised_ads', category: 'user.contact.email' })).allow).toBe(true);
  });

  it('R-TEL-5: Consent Mode v2 for a signed-in person: ad storage and user data follow the marketing cookies, ad personalisation also needs the personalised-ads consent', async () => {
    const s = randomUUID();
    const { consents, cookieConsent } = stack.services.consent;
    const db = stack.services.engine.db;
    const set = (purpose: string, granted: boolean) => consents.set(db, ctx, { subjectId: s, purpose, granted, source: 'web', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    const mode = async () => (await cookieConsent.state(db, ctx, { subjectId: s, gpc: false })).consentMode;
    expect(await mode()).toMatchObject({ ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' });
    await set('cookies_marketing', true);
    expect(await mode()).toMatchObject({ ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'denied' });
    await set('personalised_ads', true);
    expect(await mode()).toMatchObject({ ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted', analytics_storage: 'denied' });
    await set('personalised_ads', false);
    expect(await mode()).toMatchObject({ ad_storage: 'granted', ad_personalization: 'denied' });
    await set('cookies_marketing', false);
    expect(await mode()).toMatchObject({ ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' });
  });

  it('R-CHO-4: the banner choices of a visitor are merged into the ledger at sign-in', async () => {
    const s = randomUUID();
    const res = await put({ analytics: true });
    const signed = cookieOf(res)!.value;
    const { cookieConsent, consents, decisions } = stack.services.consent;
    const db = stack.services.engine.db;
    const raw = signed.slice(0, signed.lastIndexOf('.'));
    expect(await cookieConsent.mergeAtSignIn(db, ctx, s, raw)).toEqual(expect.any(String));
    expect((await consents.list(db, s)).find((c) => c.purpose === 'cookies_analytics')).toMatchObject({ status: 'given', source: 'web' });
    expect((await decisions.decide({ subjectId: s, purpose: 'cookies_analytics', category: 'user.behavior.browsing_history' })).allow).toBe(true);
    const view = await cookieConsent.state(db, ctx, { subjectId: s, gpc: false });
    expect(view.categories).toEqual({ necessary: true, preferences: false, analytics: true, marketing: false });
  });

  it('R-TEL-5, R-CHO-4: TCF v2.2: the TC string we produce decodes with @iabtcf/core to exactly the purposes of the consent state', async () => {
    const none = TCString.decode((await get()).json().tcString);
    for (let p = 1; p <= 11; p++) expect(none.purposeConsents.has(p), `purpose ${p}`).toBe(false);
    const all = await put({ preferences: true, analytics: true, marketing: true });
    const tc = TCString.decode(all.json().tcString);
    const expected: Record<number, boolean> = { 1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 9: true, 10: true, 11: true };
    for (let p = 1; p <= 11; p++) expect(tc.purposeConsents.has(p), `purpose ${p}`).toBe(expected[p]);
    expect(tc.vendorConsents.has(1)).toBe(true);
    expect(tc.vendorConsents.has(2)).toBe(true);
    expect(tc.cmpId).toBe(300);
    const analyticsOnly = TCString.decode((await put({ analytics: true })).json().tcString);
    const on = [...Array(11).keys()].map((i) => i + 1).filter((p) => analyticsOnly.purposeConsents.has(p));
    expect(on).toEqual([1, 8, 9, 10]);
    expect(analyticsOnly.vendorConsents.has(2)).toBe(true);
  });
});
