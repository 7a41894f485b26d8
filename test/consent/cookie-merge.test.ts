import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { bearer, person, signUp } from '../support/people.js';

describe.each(ENGINES)('cookie choices merged at sign-in on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  it('R-CHO-4: the banner choices a visitor made become the person\'s recorded consents when they sign in', async () => {
    const p = person();
    await signUp(stack, p);
    const banner = await stack.app.inject({ method: 'PUT', url: '/v1/cookie-consent', payload: { analytics: true, marketing: false } });
    expect(banner.statusCode).toBe(200);
    const cookie = banner.cookies.find((c) => c.name === 'pledge_consent');
    expect(cookie).toBeDefined();
    const signIn = await stack.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: p.email, password: p.password }, cookies: { pledge_consent: cookie!.value } });
    expect(signIn.statusCode).toBe(201);
    expect(signIn.cookies.find((c) => c.name === 'pledge_consent')?.value).toBe('');
    const consents = await stack.app.inject({ method: 'GET', url: '/v1/me/consents', headers: bearer(signIn.json().token) });
    const byPurpose = new Map((consents.json().consents as { purpose: string; status: string }[]).map((c) => [c.purpose, c.status]));
    expect(byPurpose.get('cookies_analytics')).toBe('given');
    expect(byPurpose.get('cookies_marketing')).not.toBe('given');
  });
  const statusOf = async (token: string) => new Map((((await stack.app.inject({ method: 'GET', url: '/v1/me/consents', headers: bearer(token) })).json().consents) as { purpose: string; status: string }[]).map((c) => [c.purpose, c.status]));
  const signInWith = (p: ReturnType<typeof person>, cookie: string, headers: Record<string, string> = {}) =>
    stack.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: p.email, password: p.password }, cookies: { pledge_consent: cookie }, headers });

  it('R-CHO-4, R-USE-5: an old banner choice carried into sign-in does not undo a withdrawal the person made afterwards elsewhere', async () => {
    const p = person();
    await signUp(stack, p);
    // Browser A, as a visitor: analytics on.
    const banner = await stack.app.inject({ method: 'PUT', url: '/v1/cookie-consent', payload: { analytics: true } });
    const cookie = banner.cookies.find((c) => c.name === 'pledge_consent')!.value;
    // Browser B, signed in: gives, then withdraws analytics (the ledger's last word is later than the banner click).
    const other = (await signInWith(p, '')).json().token as string;
    for (const granted of [true, false]) {
      const set = await stack.app.inject({ method: 'PUT', url: '/v1/me/consents/cookies_analytics', headers: bearer(other), payload: { granted } });
      expect(set.statusCode, set.body).toBe(200);
    }
    // Back in browser A: signing in with the old cookie.
    const signIn = await signInWith(p, cookie);
    expect(signIn.statusCode).toBe(201);
    expect((await statusOf(signIn.json().token)).get('cookies_analytics')).toBe('withdrawn');
  });

  it('R-CHO-2: a banner "on" for marketing carried into a sign-in that sends Global Privacy Control does not become consent', async () => {
    const p = person();
    await signUp(stack, p);
    const banner = await stack.app.inject({ method: 'PUT', url: '/v1/cookie-consent', payload: { analytics: true, marketing: true } });
    const cookie = banner.cookies.find((c) => c.name === 'pledge_consent')!.value;
    const signIn = await signInWith(p, cookie, { 'sec-gpc': '1' });
    expect(signIn.statusCode).toBe(201);
    const status = await statusOf(signIn.json().token);
    expect(status.get('cookies_marketing')).not.toBe('given');
    expect(status.get('cookies_analytics')).toBe('given');
  });
});
