import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { bearer, newUser } from '../support/people.js';

describe.each(ENGINES)('a person’s consents over HTTP on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  it('R-USE-5: needs a signed-in user', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/me/consents' });
    expect(res.statusCode).toBe(401);
    expect((await stack.app.inject({ method: 'PUT', url: '/v1/me/consents/personalised_ads', payload: { granted: true } })).statusCode).toBe(401);
  });

  it('R-USE-5: GET lists every opt-in purpose denied; PUT gives and withdraws with one call each, answering the state and a receipt verifiable with the JWKS', async () => {
    const { id, token } = await newUser(stack);
    const list = await stack.app.inject({ method: 'GET', url: '/v1/me/consents', headers: bearer(token) });
    expect(list.statusCode).toBe(200);
    const consents = list.json().consents as { purpose: string; granted: boolean; status: string }[];
    expect(consents.map((c) => c.purpose).sort()).toEqual([...stack.services.policy.consentPurposes].sort());
    expect(consents.every((c) => !c.granted)).toBe(true);

    const given = await stack.app.inject({ method: 'PUT', url: '/v1/me/consents/personalised_ads', headers: bearer(token), payload: { granted: true } });
    expect(given.statusCode).toBe(200);
    expect(given.json().consent).toMatchObject({ purpose: 'personalised_ads', status: 'given', granted: true, source: 'web' });
    const input = { subjectId: id, purpose: 'personalised_ads', category: 'user.contact.email' };
    expect((await stack.services.consent.decisions.decide(input)).allow).toBe(true);

    const withdrawn = await stack.app.inject({ method: 'PUT', url: '/v1/me/consents/personalised_ads', headers: bearer(token), payload: { granted: false } });
    expect(withdrawn.json().consent).toMatchObject({ status: 'withdrawn', granted: false });
    expect((await stack.services.consent.decisions.decide(input)).reason).toBe('CONSENT_WITHDRAWN');

    const receipt = await stack.app.inject({ method: 'GET', url: `/v1/me/consents/receipts/${withdrawn.json().receiptId}`, headers: bearer(token) });
    expect(receipt.statusCode).toBe(200);
    const jwks = (await stack.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as JSONWebKeySet;
    const { payload } = await jwtVerify(receipt.json().jws, createLocalJWKSet(jwks));
    expect(payload).toMatchObject({ piiPrincipalId: id, consentReceiptID: withdrawn.json().receiptId });

    const other = await newUser(stack);
    expect((await stack.app.inject({ method: 'GET', url: `/v1/me/consents/receipts/${withdrawn.json().receiptId}`, headers: bearer(other.token) })).statusCode).toBe(404);
  });

  it('R-USE-1: unknown purpose → 400 UNKNOWN_PURPOSE; a contract purpose → 400 PURPOSE_NEEDS_NO_CONSENT; extra fields → UNKNOWN_FIELD', async () => {
    const { token } = await newUser(stack);
    const unknown = await stack.app.inject({ method: 'PUT', url: '/v1/me/consents/spy', headers: bearer(token), payload: { granted: true } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('UNKNOWN_PURPOSE');
    expect((await stack.app.inject({ method: 'PUT', url: '/v1/me/consents/provide_service', headers: bearer(token), payload: { granted: false } })).json().code).toBe('PURPOSE_NEEDS_NO_CONSENT');
    expect((await stack.app.inject({ method: 'PUT', url: '/v1/me/consents/promotions', headers: bearer(token), payload: { granted: true, why: 1 } })).json().code).toBe('UNKNOWN_FIELD');
  });

  it('R-TEL-5: a signed-in request with Sec-GPC: 1 records the opt-out with source gpc; opting in again needs confirmOverrideGpc', async () => {
    const { id, token } = await newUser(stack);
    await stack.app.inject({ method: 'PUT', url: '/v1/me/consents/marketing_messages', headers: bearer(token), payload: { granted: true } });
    const list = await stack.app.inject({ method: 'GET', url: '/v1/me/consents', headers: { ...bearer(token), 'sec-gpc': '1' } });
    const byPurpose = new Map((list.json().consents as { purpose: string; status: string; source: string }[]).map((c) => [c.purpose, c]));
    expect(byPurpose.get('marketing_messages')).toMatchObject({ status: 'withdrawn', source: 'gpc' });
    expect(byPurpose.get('personalised_ads')).toMatchObject({ status: 'refused', source: 'gpc' });
    expect(byPurpose.get('cookies_marketing')).toMatchObject({ status: 'refused', source: 'gpc' });
    const again = await stack.app.inject({ method: 'PUT', url: '/v1/me/consents/marketing_messages', headers: { ...bearer(token), 'sec-gpc': '1' }, payload: { granted: true } });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('GPC_CONFIRMATION_REQUIRED');
    const confirmed = await stack.app.inject({ method: 'PUT', url: '/v1/me/consents/marketing_messages', headers: { ...bearer(token), 'sec-gpc': '1' }, payload: { granted: true, confirmOverrideGpc: true } });
    expect(confirmed.json().consent).toMatchObject({ status: 'given', granted: true });
    await stack.app.inject({ method: 'GET', url: '/v1/me/consents', headers: { ...bearer(token), 'sec-gpc': '1' } });
    expect((await stack.services.consent.decisions.decide({ subjectId: id, purpose: 'marketing_messages', category: 'user.contact.email' })).allow).toBe(true);
  });

  it('R-CHO-4: a visitor’s banner choices are merged into the ledger at the first banner call after sign-in', async () => {
    const visitor = await stack.app.inject({ method: 'PUT', url: '/v1/cookie-consent', payload: { preferences: true } });
    const cookie = visitor.cookies.find((c) => c.name === 'pledge_consent')!;
    const { id, token } = await newUser(stack);
    const merged = await stack.app.inject({ method: 'GET', url: '/v1/cookie-consent', headers: { ...bearer(token), cookie: `pledge_consent=${cookie.value}` } });
    expect(merged.json().categories).toEqual({ necessary: true, preferences: true, analytics: false, marketing: false });
    expect(merged.json().receiptId).toEqual(expect.any(String));
    expect(merged.cookies.find((c) => c.name === 'pledge_consent')?.value).toBe('');
    const history = await stack.services.consent.consents.history(stack.services.engine.db, id);
    expect(history.map((e) => `${e.purpose}:${e.status}:${e.source}`)).toEqual(['cookies_preferences:given:web']);
  });

  it('R-CHO-4: a signed-in person’s cookie choices go to the ledger and come back on the next visit', async () => {
    const { id, token } = await newUser(stack);
    const put = await stack.app.inject({ method: 'PUT', url: '/v1/cookie-consent', headers: bearer(token), payload: { analytics: true, marketing: false } });
    expect(put.statusCode).toBe(200);
    expect(put.json().receiptId).toEqual(expect.any(String));
    const history = await stack.services.consent.consents.history(stack.services.engine.db, id);
    expect(history.map((e) => `${e.purpose}:${e.status}`).sort()).toEqual(['cookies_analytics:given', 'cookies_marketing:refused']);
    const get = await stack.app.inject({ method: 'GET', url: '/v1/cookie-consent', headers: bearer(token) });
    expect(get.json().categories).toEqual({ necessary: true, preferences: false, analytics: true, marketing: false });
    expect(get.json().consentMode).toMatchObject({ analytics_storage: 'granted', ad_storage: 'denied' });
  });
});
