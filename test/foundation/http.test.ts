import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'light-my-request';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';

describe.each(ENGINES)('HTTP foundation on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  it('GET /health answers with the engine and policy version', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', engine: kind, policyVersion: stack.services.policy.version });
  });

  it('GET /openapi.json is OpenAPI 3.1 generated from the route schemas, and /docs serves the interactive docs', async () => {
    const spec = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/health', '/v1/policy', '/v1/classify']));
    expect(spec.paths['/v1/classify'].post.requestBody.content['application/json'].schema.properties.linkedToSubject.type).toBe('boolean');
    const docs = await stack.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('R-CHO-1: GET /v1/policy says, for every category, whether it is personal, who uses it on which basis, retention and recipients', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/policy' });
    expect(res.statusCode).toBe(200);
    const view = res.json();
    expect(view.categories).toHaveLength(stack.services.policy.categories.size);
    const imei = view.categories.find((c: { key: string }) => c.key === 'user.device.imei');
    expect(imei.personal).toBe(true);
    expect(imei.purposes.map((p: { name: string }) => p.name).sort()).toEqual(['product_analysis', 'software_licence', 'subject_rights', 'warranty']);
    const email = view.categories.find((c: { key: string }) => c.key === 'user.contact.email');
    expect(email.purposes.find((p: { name: string }) => p.name === 'marketing_messages')).toMatchObject({ legalBasis: 'consent', needsConsent: true });
    expect(email.retention).toBe('while the account is active');
    const orders = view.categories.find((c: { key: string }) => c.key === 'user.behavior.purchase_history');
    expect(orders.recipientTypes).toEqual(expect.arrayContaining(['processor', 'legal_authority']));
    const html = await stack.app.inject({ method: 'GET', url: '/v1/policy?format=html' });
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toContain('What we collect and why');
    expect(html.body).toContain('only with your consent');
  });

  it('R-SEC-1: security headers on every answer, HSTS only on TLS', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/health' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('R-CLS-2: POST /v1/classify marks non-personal data joined to a subject as personal', async () => {
    const res = await stack.app.inject({ method: 'POST', url: '/v1/classify', payload: { categories: ['user.demographic.language'], linkedToSubject: true } });
    expect(res.json()).toEqual({ classification: 'personal' });
    const alone = await stack.app.inject({ method: 'POST', url: '/v1/classify', payload: { categories: ['user.demographic.language'], linkedToSubject: false } });
    expect(alone.json()).toEqual({ classification: 'non_personal' });
  });

  describe('bad input always gets a 4xx problem+json with a stable code', () => {
    const cases: [string, InjectOptions, number, string][] = [
      ['unknown field', { method: 'POST', url: '/v1/classify', payload: { categories: ['user.name'], linkedToSubject: true, extra: 1 } }, 400, 'UNKNOWN_FIELD'],
      ['wrong type', { method: 'POST', url: '/v1/classify', payload: { categories: ['user.name'], linkedToSubject: 'yes' } }, 400, 'VALIDATION_FAILED'],
      ['number as string is not coerced', { method: 'POST', url: '/v1/classify', payload: { categories: [12], linkedToSubject: true } }, 400, 'VALIDATION_FAILED'],
      ['over-long string', { method: 'POST', url: '/v1/classify', payload: { categories: ['x'.repeat(101)], linkedToSubject: true } }, 400, 'VALIDATION_FAILED'],
      ['missing field', { method: 'POST', url: '/v1/classify', payload: { categories: ['user.name'] } }, 400, 'VALIDATION_FAILED'],
      ['unknown category', { method: 'POST', url: '/v1/classify', payload: { categories: ['user.mystery'], linkedToSubject: false } }, 400, 'UNKNOWN_CATEGORY'],
      ['malformed JSON', { method: 'POST', url: '/v1/classify', payload: '{"categories": [', headers: { 'content-type': 'application/json' } }, 400, 'BODY_NOT_JSON'],
      ['empty JSON body', { method: 'POST', url: '/v1/classify', payload: '', headers: { 'content-type': 'application/json' } }, 400, 'BODY_NOT_JSON'],
      ['wrong content type', { method: 'POST', url: '/v1/classify', payload: 'categories=user.name', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['body over the limit', { method: 'POST', url: '/v1/classify', payload: JSON.stringify({ categories: ['x'.repeat(1_100_000)], linkedToSubject: true }), headers: { 'content-type': 'application/json' } }, 413, 'BODY_TOO_LARGE'],
      ['bad query value', { method: 'GET', url: '/v1/policy?format=xml' }, 400, 'VALIDATION_FAILED'],
      ['unknown query field', { method: 'GET', url: '/v1/policy?colour=red' }, 400, 'UNKNOWN_FIELD'],
      ['unknown route', { method: 'GET', url: '/v1/nothing-here' }, 404, 'ROUTE_NOT_FOUND'],
    ];
    it.each(cases)('%s', async (_name, request, status, code) => {
      const res = await stack.app.inject(request);
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const body = res.json();
      expect(body).toMatchObject({ status, code });
      expect(typeof body.detail).toBe('string');
      expect(body.detail.length).toBeGreaterThan(5);
    });
  });
});

describe('rate limit and proxies', () => {
  it('R-SEC-1: a default rate limit per IP answers 429 problem+json', async () => {
    const stack = await createStack('sqlite', { rateLimit: true, env: { RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await stack.app.inject({ method: 'GET', url: '/health' })).statusCode);
      expect(codes).toEqual([200, 200, 200, 429]);
      const res = await stack.app.inject({ method: 'GET', url: '/health' });
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(res.json().code).toBe('RATE_LIMITED');
    } finally {
      await stack.close();
    }
  });

  it('X-Forwarded-For is believed only from TRUSTED_PROXIES', async () => {
    const hit = async (stack: TestStack, ip: string) => (await stack.app.inject({ method: 'GET', url: '/health', headers: { 'x-forwarded-for': ip } })).statusCode;
    const untrusted = await createStack('sqlite', { rateLimit: true, env: { RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      // Without a trusted proxy every forged address is the same client.
      expect([await hit(untrusted, '10.0.0.1'), await hit(untrusted, '10.0.0.2'), await hit(untrusted, '10.0.0.3')]).toEqual([200, 200, 429]);
    } finally {
      await untrusted.close();
    }
    const trusted = await createStack('sqlite', { rateLimit: true, env: { RATE_LIMIT_PER_MINUTE: '2', TRUSTED_PROXIES: '127.0.0.1' } });
    try {
      expect([await hit(trusted, '10.0.0.1'), await hit(trusted, '10.0.0.2'), await hit(trusted, '10.0.0.3')]).toEqual([200, 200, 200]);
    } finally {
      await trusted.close();
    }
  });
});
