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

  it('R-USE-1: `pledge apikey create --name shop` prints the key once; only its SHA-256 is stored', async () => {
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

  it('R-USE-1: an unknown purpose or category is 400 UNKNOWN_PURPOSE / UNKNOWN_CATEGORY; unknown fields are refused', async () => {
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

  it('R-USE-1: the compact batch format (names once, items by index) answers exactly what the plain format answers', async () => {
    const adult = randomUUID();
    const child = randomUUID();
    const { consents, subjectStatus } = stack.services.consent;
    const db = stack.services.engine.db;
    await consents.set(db, ctx, { subjectId: adult, purpose: 'personalised_ads', granted: true, source: 'api', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    await subjectStatus.markChild(db, ctx, child, true);
    const purposes = ['personalised_ads', 'product_analysis', 'provide_service'];
    const categories = ['user.contact.email', 'user.device.model', 'user.financial.bank_account'];
    const items = [
      [adult, 0, 0, false], [child, 0, 0, false], [randomUUID(), 0, 0, false], [adult, 1, 1, false], [adult, 1, 1, true], [adult, 2, 0, false], [adult, 2, 2, false],
    ] as const;
    const plain = await post('/v1/decisions/batch', { decisions: items.map(([subjectId, p, c, aggregate]) => ({ subjectId, purpose: purposes[p], category: categories[c], aggregate })) });
    const compact = await post('/v1/decisions/batch', {
      purposes,
      categories,
      subjectIds: items.map((i) => i[0]),
      purpose: items.map((i) => i[1]),
      category: items.map((i) => i[2]),
      aggregate: items.map((i) => i[3]),
    });
    expect(compact.statusCode).toBe(200);
    expect(compact.headers['content-type']).toMatch(/^application\/json/);
    const { answers, answer } = compact.json() as { answers: unknown[]; answer: number[] };
    // Each distinct decision once: the index column carries the rest.
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(answers.length);
    expect(answer.map((k) => answers[k])).toEqual(plain.json().decisions);
    expect(answer.map((k) => (answers[k] as { reason: string }).reason)).toEqual([
      'ALLOWED_CONSENT', 'SUBJECT_IS_CHILD', 'CONSENT_MISSING', 'AGGREGATES_ONLY', 'ALLOWED_LEGITIMATE_INTEREST', 'ALLOWED_CONTRACT', 'CATEGORY_NOT_ALLOWED_FOR_PURPOSE',
    ]);
    // Documented for callers: both request formats and both answers are in the OpenAPI document.
    const route = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json().paths['/v1/decisions/batch'].post;
    const documented = JSON.stringify(route);
    for (const field of ['decisions', 'subjectIds', 'purposes', 'categories', 'answers', 'answer']) expect(documented).toContain(`"${field}"`);
  });

  it('R-USE-5: a compact batch with one purpose and one category needs no index columns, and sees a withdrawal at the next call', async () => {
    const s = randomUUID();
    const { consents } = stack.services.consent;
    const db = stack.services.engine.db;
    const batch = { purposes: ['marketing_messages'], categories: ['user.contact.email'], subjectIds: [s, randomUUID()] };
    await consents.set(db, ctx, { subjectId: s, purpose: 'marketing_messages', granted: true, source: 'api', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    const reasons = async () => {
      const r = await post('/v1/decisions/batch', batch);
      expect(r.statusCode).toBe(200);
      const { answers, answer } = r.json() as { answers: { allow: boolean; reason: string }[]; answer: number[] };
      return answer.map((k) => `${answers[k]!.allow} ${answers[k]!.reason}`);
    };
    expect(await reasons()).toEqual(['true ALLOWED_CONSENT', 'false CONSENT_MISSING']);
    await consents.set(db, ctx, { subjectId: s, purpose: 'marketing_messages', granted: false, source: 'api', collectionMethod: 'test', gpc: false, confirmOverrideGpc: false });
    expect(await reasons()).toEqual(['false CONSENT_WITHDRAWN', 'false CONSENT_MISSING']);
  });

  it('R-USE-1: a compact batch is checked like the plain one: unknown names, bad indices, uneven columns and unknown fields are 400 with a code', async () => {
    const s = randomUUID();
    const ok = { purposes: ['provide_service', 'warranty'], categories: ['user.contact.email'], subjectIds: [s, s], purpose: [0, 1] };
    expect((await post('/v1/decisions/batch', ok)).statusCode).toBe(200);
    const code = async (body: unknown) => {
      const r = await post('/v1/decisions/batch', body);
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      return r.json().code as string;
    };
    // Every name must be declared, even one no item refers to.
    expect(await code({ ...ok, purposes: ['provide_service', 'warranty', 'sell_to_brokers'] })).toBe('UNKNOWN_PURPOSE');
    expect(await code({ ...ok, categories: ['user.contact.email', 'user.soul'], category: [0, 0] })).toBe('UNKNOWN_CATEGORY');
    expect(await code({ ...ok, purpose: [0, 2] })).toBe('VALIDATION_FAILED');
    expect(await code({ ...ok, purpose: [0, -1] })).toBe('VALIDATION_FAILED');
    expect(await code({ ...ok, purpose: [0, 0.5] })).toBe('VALIDATION_FAILED');
    expect(await code({ ...ok, purpose: [0] })).toBe('VALIDATION_FAILED');
    expect(await code({ ...ok, purpose: undefined })).toBe('VALIDATION_FAILED');
    expect(await code({ ...ok, aggregate: [true] })).toBe('VALIDATION_FAILED');
    expect(await code({ ...ok, aggregate: [true, 'yes'] })).toBe('VALIDATION_FAILED');
    expect(await code({ ...ok, subjectIds: [s, ''] })).toBe('VALIDATION_FAILED');
    expect(await code({ ...ok, subjectIds: [] })).toBe('VALIDATION_FAILED');
    expect(await code({ ...ok, subjectIds: Array.from({ length: 1001 }, () => s), purpose: undefined, purposes: ['warranty'] })).toBe('VALIDATION_FAILED');
    expect(await code({ ...ok, why: 'x' })).toBe('UNKNOWN_FIELD');
    expect(await code({ ...ok, decisions: [] })).toBe('UNKNOWN_FIELD');
  });

  it('R-USE-1: the decision routes read bodies as Fastify does: not JSON or empty is 400 BODY_NOT_JSON, over the limit 413, a __proto__ key is refused', async () => {
    const raw = (payload: string) => stack.app.inject({ method: 'POST', url: '/v1/decisions/batch', payload, headers: { 'content-type': 'application/json', 'x-api-key': key } });
    const broken = await raw('{"decisions": [');
    expect(broken.statusCode).toBe(400);
    expect(broken.json().code).toBe('BODY_NOT_JSON');
    expect((await raw('')).json().code).toBe('BODY_NOT_JSON');
    const item = { subjectId: randomUUID(), purpose: 'provide_service', category: 'user.name' };
    const huge = await raw(JSON.stringify({ decisions: [item], pad: 'x'.repeat(2 * 1024 * 1024) }));
    expect(huge.statusCode).toBe(413);
    expect(huge.json().code).toBe('BODY_TOO_LARGE');
    const poisoned = await raw(`{"decisions":[{"subjectId":"${item.subjectId}","purpose":"provide_service","category":"user.name","__proto__":{"allow":true}}]}`);
    expect(poisoned.statusCode).toBe(400);
    expect(poisoned.json().code).toBe('UNKNOWN_FIELD');
    const single = await stack.app.inject({ method: 'POST', url: '/v1/decisions', payload: `{"__proto__":{"x":1},"subjectId":"${item.subjectId}","purpose":"provide_service","category":"user.name"}`, headers: { 'content-type': 'application/json', 'x-api-key': key } });
    // The single route keeps Fastify's own parser, which refuses prototype poisoning while parsing.
    expect(single.statusCode).toBe(400);
    expect(single.json().code).toBe('BODY_NOT_JSON');
    // A multi-byte character split across chunks survives decoding.
    const accented = await raw(JSON.stringify({ decisions: [{ ...item, subjectId: `é${'x'.repeat(100)}€` }] }));
    expect(accented.statusCode).toBe(200);
  });

  it('R-USE-1: the lean decisions listener (internal port) answers the same and refuses a missing key', async () => {
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

  it('R-USE-1: a revoked key is refused at once', async () => {
    const { apiKey, secret } = await stack.services.apiKeys.create(stack.services.engine.db, ctx, 'temp');
    expect((await post('/v1/decisions', { subjectId: randomUUID(), purpose: 'provide_service', category: 'user.name' }, secret)).statusCode).toBe(200);
    await stack.services.apiKeys.revoke(stack.services.engine.db, ctx, apiKey.id);
    expect((await post('/v1/decisions', { subjectId: randomUUID(), purpose: 'provide_service', category: 'user.name' }, secret)).statusCode).toBe(401);
  });
});
