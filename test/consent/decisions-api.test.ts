import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { runCli } from '../support/cli.js';
import { systemContext } from '../../src/internal/context.js';
import { buildDecisionsApp } from '../../src/http/decisions-app.js';

const ctx = systemContext('test');

describe.each(ENGINES)('decision API on %s', (kind) => {
  let stack: TestStack;
  let key: string;
  const post = (url: string, payload: unknown, apiKey: string | undefined = key) =>
    stack.app.inject({ method: 'POST', url, payload: payload as object, headers: apiKey ? { 'x-api-key': apiKey } : {} });

  beforeAll(async () => {
    stack = await createStack(kind);
    const cli = runCli(['apikey', 'create', '--name', 'shop'], stack.env);
    expect(cli.status, cli.stderr).toBe(0);
    key = cli.stdout.trim();
  });
  afterAll(async () => stack.close());

  it('`pledge apikey create --name shop` prints the key once; only its SHA-256 is stored', async () => {
    expect(key).toMatch(/^plk_[A-Za-z0-9_-]{43}$/);
    const rows = await stack.services.engine.db.selectFrom('api_keys').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.name).toBe('shop');
    expect(JSON.stringify(rows)).not.toContain(key.slice(10));
    const list = await stack.services.apiKeys.list(stack.services.engine.db);
    expect(list.map((k) => k.name)).toEqual(['shop']);
    expect(JSON.stringify(list)).not.toContain(key.slice(10));
  });

  it('R-USE-1: POST /v1/decisions answers allow, reason, legal basis and policy version; no or a wrong key is 401', async () => {
    const s = randomUUID();
    const ok = await post('/v1/decisions', { subjectId: s, purpose: 'provide_service', category: 'user.contact.email' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ allow: true, reason: 'ALLOWED_CONTRACT', legalBasis: 'contract', policyVersion: stack.services.policy.version });
    expect((await post('/v1/decisions', { subjectId: s, purpose: 'personalised_ads', category: 'user.contact.email' })).json()).toMatchObject({ allow: false, reason: 'CONSENT_MISSING' });
    const none = await post('/v1/decisions', { subjectId: s, purpose: 'provide_service', category: 'user.contact.email' }, '');
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('API_KEY_INVALID');
    expect((await post('/v1/decisions', { subjectId: s, purpose: 'provide_service', category: 'user.name' }, `${key}x`)).statusCode).toBe(401);
  });

  it('an unknown purpose or category is 400 UNKNOWN_PURPOSE / UNKNOWN_CATEGORY; unknown fields are refused', async () => {
    const s = randomUUID();
    const p = await post('/v1/decisions', { subjectId: s, purpose: 'sell_to_brokers', category: 'user.contact.email' });
    expect(p.statusCode).toBe(400);
    expect(p.json().code).toBe('UNKNOWN_PURPOSE');
    const c = await post('/v1/decisions', { subjectId: s, purpose: 'provide_service', category: 'user.soul' });
    expect(c.statusCode).toBe(400);
    expect(c.json().code).toBe('UNKNOWN_CATEGORY');
    expect((await post('/v1/decisions', { subjectId: s, purpose: 'provide_service', category: 'user.name', extra: 1 })).json().code).toBe('UNKNOWN_FIELD');
  });

  it('R-USE-5: POST /v1/decisions/batch (≤ 1,000) sees a withdrawal at the very next decision', async () => {
    const s = randomUUID();
    const { consents } = stack.services.consent;
    const db = stack.services.engine.db;
    await consents.set(db, ctx, { subjectId: s, purpose: 'marketing_messages', granted: true, source: 'api', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    const batch = [
      { subjectId: s, purpose: 'marketing_messages', category: 'user.contact.email' },
      { subjectId: s, purpose: 'product_analysis', category: 'user.device.model' },
      { subjectId: s, purpose: 'product_analysis', category: 'user.device.model', aggregate: true },
      { subjectId: randomUUID(), purpose: 'warranty', category: 'user.device.imei' },
    ];
    const first = await post('/v1/decisions/batch', { decisions: batch });
    expect(first.statusCode).toBe(200);
    expect(first.json().decisions.map((d: { reason: string }) => d.reason)).toEqual(['ALLOWED_CONSENT', 'AGGREGATES_ONLY', 'ALLOWED_LEGITIMATE_INTEREST', 'ALLOWED_CONTRACT']);
    await consents.set(db, ctx, { subjectId: s, purpose: 'marketing_messages', granted: false, source: 'api', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    expect((await post('/v1/decisions/batch', { decisions: batch })).json().decisions[0]).toMatchObject({ allow: false, reason: 'CONSENT_WITHDRAWN' });
    const tooMany = Array.from({ length: 1001 }, () => batch[0]);
    expect((await post('/v1/decisions/batch', { decisions: tooMany })).statusCode).toBe(400);
    expect((await post('/v1/decisions/batch', { decisions: [batch[0], { ...batch[0], purpose: 'nope' }] })).json().code).toBe('UNKNOWN_PURPOSE');
    const extra = await post('/v1/decisions/batch', { decisions: [batch[0], { ...batch[0], why: 'x' }] });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().code).toBe('UNKNOWN_FIELD');
    const missing = await post('/v1/decisions/batch', { decisions: [{ subjectId: s, purpose: 'warranty' }] });
    expect(missing.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await post('/v1/decisions/batch', { decisions: [{ ...batch[0], aggregate: 'yes' }] })).json().code).toBe('VALIDATION_FAILED');
    expect((await post('/v1/decisions/batch', { decisions: [] })).statusCode).toBe(400);
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(first.json().decisions[0]).sort()).toEqual(['allow', 'legalBasis', 'policyVersion', 'reason']);
  });

  it('the lean decisions listener (internal port) answers the same and refuses a missing key', async () => {
    const lean = await buildDecisionsApp(stack.services);
    try {
      const s = randomUUID();
      const ok = await lean.inject({ method: 'POST', url: '/v1/decisions', headers: { 'x-api-key': key }, payload: { subjectId: s, purpose: 'product_analysis', category: 'user.device.imei' } });
      expect(ok.json()).toMatchObject({ allow: false, reason: 'AGGREGATES_ONLY' });
      expect((await lean.inject({ method: 'POST', url: '/v1/decisions', payload: { subjectId: s, purpose: 'warranty', category: 'user.device.imei' } })).statusCode).toBe(401);
      expect((await lean.inject({ method: 'POST', url: '/v1/decisions', headers: { 'x-api-key': key }, payload: { subjectId: s, purpose: 'warranty', category: 'user.nope' } })).json().code).toBe('UNKNOWN_CATEGORY');
    } finally {
      await lean.close();
    }
  });

  it('a revoked key is refused at once', async () => {
    const { apiKey, secret } = await stack.services.apiKeys.create(stack.services.engine.db, ctx, 'temp');
    expect((await post('/v1/decisions', { subjectId: randomUUID(), purpose: 'provide_service', category: 'user.name' }, secret)).statusCode).toBe(200);
    await stack.services.apiKeys.revoke(stack.services.engine.db, ctx, apiKey.id);
    expect((await post('/v1/decisions', { subjectId: randomUUID(), purpose: 'provide_service', category: 'user.name' }, secret)).statusCode).toBe(401);
  });
});
