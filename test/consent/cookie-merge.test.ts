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
});
