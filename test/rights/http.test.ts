import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { staffKey, newUser } from '../support/people.js';
import { systemContext } from '../../src/internal/context.js';

const PASSWORD = 'correct horse battery staple';
const FEE = /fee|price|payment|charge|cost/i;

/** Every property name in a JSON value (values are ids and dates; a random id may spell "fee" in hex). */
function keysOf(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) keysOf(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      keysOf(x, out);
    }
  }
  return out;
}

describe.each(ENGINES)('rights over HTTP on %s', (kind) => {
  let stack: TestStack;
  let adminKey: string;
  beforeAll(async () => {
    stack = await createStack(kind);
    adminKey = await staffKey(stack, 'dpo');
  });
  afterAll(async () => stack.close());

  const call = (method: 'GET' | 'POST', url: string, token?: string, payload?: unknown) =>
    stack.app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload === undefined ? {} : { payload: payload as object }) });
  const admin = (method: 'GET' | 'POST', url: string, payload?: unknown) => stack.app.inject({ method, url, headers: { 'x-api-key': adminKey }, ...(payload === undefined ? {} : { payload: payload as object }) });

  async function person(): Promise<{ id: string; email: string; token: string }> {
    const { id, email, token } = await newUser(stack, { name: 'Fern Example', email: `fern.${randomUUID().slice(0, 8)}@example.org`, password: PASSWORD });
    return { id, email, token };
  }
  const stepUp = async (token: string) => expect((await call('POST', '/v1/me/verify', token, { password: PASSWORD })).statusCode).toBe(200);

  it('R-DSR-3: export without a fresh step-up is refused with VERIFICATION_REQUIRED; after POST /v1/me/verify it is done and recorded', async () => {
    const p = await person();
    expect((await call('POST', '/v1/me/requests', undefined, { type: 'access' })).statusCode).toBe(401);
    const refused = await call('POST', '/v1/me/requests', p.token, { type: 'export' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('VERIFICATION_REQUIRED');
    await stepUp(p.token);
    const made = await call('POST', '/v1/me/requests', p.token, { type: 'export' });
    expect(made.statusCode, made.body).toBe(201);
    const r = made.json();
    expect(r).toMatchObject({ type: 'export', status: 'completed', verificationMethod: 'session_step_up', filedBy: 'you' });
    expect(r.trail.map((t: { status: string }) => t.status)).toEqual(['received', 'verified', 'in_progress', 'completed']);
    const json = await call('GET', r.export.json, p.token);
    expect(json.statusCode).toBe(200);
    expect(json.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(json.body).account.email).toBe(p.email);
    const html = await call('GET', r.export.html, p.token);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toContain(p.email);
    const other = await person();
    expect((await call('GET', r.export.json, other.token)).statusCode).toBe(404);
    expect((await call('GET', `/v1/me/requests/${r.id}`, other.token)).statusCode).toBe(404);
    expect((await call('GET', `/v1/me/requests/${r.id}`, p.token)).json().id).toBe(r.id);
  });

  it('R-DSR-1: GET /v1/me/data shows the account and requests; a correction changes the e-mail (re-indexed for sign-in) and is recorded by field and time only', async () => {
    const p = await person();
    const data = (await call('GET', '/v1/me/data', p.token)).json();
    expect(data.account.email).toBe(p.email);
    await stepUp(p.token);
    const newEmail = `fern.new.${randomUUID().slice(0, 6)}@example.org`;
    const fixed = await call('POST', '/v1/me/requests', p.token, { type: 'rectify', corrections: { 'accounts.email': newEmail } });
    expect(fixed.statusCode, fixed.body).toBe(201);
    expect(fixed.json().status).toBe('completed');
    const after = (await call('GET', '/v1/me/data', p.token)).json();
    expect(after.account.email).toBe(newEmail);
    expect(after.corrections).toEqual([{ field: 'accounts.email', at: expect.any(String), requestId: fixed.json().id }]);
    expect((await call('POST', '/v1/sessions', undefined, { login: newEmail, password: PASSWORD })).statusCode).toBe(201);
    expect((await call('POST', '/v1/sessions', undefined, { login: p.email, password: PASSWORD })).statusCode).toBe(401);
    const rows = await stack.services.engine.db.selectFrom('rights_corrections').selectAll().where('subject_id', '=', p.id).execute();
    expect(JSON.stringify(rows)).not.toContain(newEmail);
    expect((await call('POST', '/v1/me/requests', p.token, { type: 'access', fee: 0 })).json().code).toBe('UNKNOWN_FIELD');
  });

  it('R-DSR-1: a correction with one refused value changes nothing: a wrong shape is a 400 (not a 500), a taken e-mail a 409, and the name filed with it stays as it was', async () => {
    const p = await person();
    const other = await person();
    await stepUp(p.token);
    const nameOf = async () => (await call('GET', '/v1/me/data', p.token)).json().account.name;
    const before = await nameOf();
    const badShape = await call('POST', '/v1/me/requests', p.token, { type: 'rectify', corrections: { 'accounts.name': 'Fern Corrected', 'accounts.postal_address': { line1: 5, city: 'Berlin', country: 'DE' } } });
    expect(badShape.statusCode, badShape.body).toBe(400);
    expect(badShape.json().code).toBe('VALIDATION_FAILED');
    const noCountry = await call('POST', '/v1/me/requests', p.token, { type: 'rectify', corrections: { 'accounts.name': 'Fern Corrected', 'accounts.postal_address': { line1: '1 Main St', city: 'Berlin' } } });
    expect(noCountry.statusCode, noCountry.body).toBe(400);
    const taken = await call('POST', '/v1/me/requests', p.token, { type: 'rectify', corrections: { 'accounts.name': 'Fern Corrected', 'accounts.email': other.email } });
    expect(taken.statusCode, taken.body).toBe(409);
    expect(await nameOf()).toBe(before);
    const recorded = await stack.services.engine.db.selectFrom('rights_corrections').select('field').where('subject_id', '=', p.id).execute();
    expect(recorded).toEqual([]);
  });

  it('R-DSR-8: the admin queue filters by status, type and overdue, needs the admin API key, and staff may file on a person\'s behalf', async () => {
    const p = await person();
    expect((await stack.app.inject({ method: 'GET', url: '/v1/admin/requests' })).statusCode).toBe(401);
    // A service key (a shop's, for the decision API) is refused: it may neither read the queue nor file for anyone.
    const shop = (await stack.services.apiKeys.create(stack.services.engine.db, systemContext('test'), 'shop')).secret;
    for (const [method, url, payload] of [['GET', '/v1/admin/requests', undefined], ['POST', '/v1/admin/requests', { subjectId: p.id, type: 'erase_account', identityCheck: 'id_document' }]] as const) {
      const refused = await stack.app.inject({ method, url, headers: { 'x-api-key': shop }, ...(payload ? { payload } : {}) });
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.json().code).toBe('FORBIDDEN');
    }
    expect(await stack.services.rights.requests.list(p.id)).toEqual([]);
    const filed = await admin('POST', '/v1/admin/requests', { subjectId: p.id, type: 'restrict', identityCheck: 'id_document' });
    expect(filed.statusCode, filed.body).toBe(201);
    expect(filed.json()).toMatchObject({ subjectId: p.id, status: 'completed', filedBy: 'service', verificationMethod: 'staff_attested:id_document' });
    const queue = (await admin('GET', '/v1/admin/requests?type=restrict&status=completed')).json();
    expect(queue.map((r: { id: string }) => r.id)).toContain(filed.json().id);
    expect((await admin('GET', '/v1/admin/requests?overdue=true')).json()).toEqual([]);
    const mine = (await call('GET', '/v1/me/requests', p.token)).json();
    expect(mine.map((r: { id: string }) => r.id)).toEqual([filed.json().id]);
  });

  it('R-DSR-2: account erasure over HTTP ends the sessions, lists legal holds and says that a record of the request is kept', async () => {
    const p = await person();
    await stepUp(p.token);
    const res = await call('POST', '/v1/me/requests', p.token, { type: 'erase_account' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().status).toBe('completed');
    expect(res.json().notice).toMatch(/record of this request/);
    expect(res.json().legalHolds).toEqual([]);
    expect((await call('GET', '/v1/me/requests', p.token)).statusCode).toBe(401);
    const kept = (await admin('GET', '/v1/admin/requests?type=erase_account')).json();
    expect(kept.find((r: { subjectId: string }) => r.subjectId === p.id)).toMatchObject({ status: 'completed' });
  });

  it('R-DSR-5: no request path, schema or answer carries a fee, price or payment', async () => {
    const spec = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    const paths = Object.keys(spec.paths).filter((k) => k.startsWith('/v1/me/requests') || k.startsWith('/v1/admin/requests') || k === '/v1/me/data');
    expect(paths.length).toBeGreaterThanOrEqual(6);
    for (const k of paths) {
      expect(k).not.toMatch(FEE);
      const names = keysOf(spec.paths[k]);
      expect(names.length).toBeGreaterThan(10);
      expect(names.filter((n) => FEE.test(n))).toEqual([]);
    }
    const p = await person();
    const answers = [await call('POST', '/v1/me/requests', p.token, { type: 'access' }), await call('GET', '/v1/me/requests', p.token), await admin('GET', '/v1/admin/requests')];
    for (const a of answers) {
      expect(a.statusCode).toBeLessThan(300);
      const names = keysOf(a.json());
      expect(names.length).toBeGreaterThan(5);
      expect(names.filter((n) => FEE.test(n))).toEqual([]);
    }
  });
  it('R-DSR-2: a shared contact can be erased on its own (its key shredded); someone else\'s contact is declined', async () => {
    const p = await person();
    const ctx = { actor: { type: 'user' as const, id: p.id }, requestId: randomUUID() };
    const shared = await stack.services.contacts.share(ctx, { name: 'Gus Guest', email: `gus.${randomUUID().slice(0, 6)}@example.org`, reason: 'share' });
    await stepUp(p.token);
    const other = await person();
    await stepUp(other.token);
    const notTheirs = await call('POST', '/v1/me/requests', other.token, { type: 'erase_partial', target: { kind: 'contact', id: shared.id } });
    expect(notTheirs.json()).toMatchObject({ status: 'declined', decline: { reason: 'UNREALISTIC', complaint: expect.stringMatching(/supervisory authority/) } });
    const res = await call('POST', '/v1/me/requests', p.token, { type: 'erase_partial', target: { kind: 'contact', id: shared.id } });
    expect(res.json().status).toBe('completed');
    expect((await call('GET', '/v1/me/data', p.token)).json().contacts).toEqual([]);
    expect(await stack.services.vault.isShredded(stack.services.engine.db, shared.id)).toBe(true);
  });

  it('R-DSR-2: one device can be erased on its own; its row and telemetry token are gone, the other device stays', async () => {
    const p = await person();
    const ctx = { actor: { type: 'user' as const, id: p.id }, requestId: randomUUID() };
    const base = { event: 'activation' as const, imei: '490154203237518', model: 'Air Purifier 4', firmware: '1.2.3', location: { lat: 52.52, lon: 13.405 } };
    const first = await stack.services.devices.activate(ctx, { ...base, deviceId: `dev-${randomUUID().slice(0, 8)}` });
    const second = await stack.services.devices.activate(ctx, { ...base, deviceId: `dev-${randomUUID().slice(0, 8)}`, model: 'Standing Fan 2' });
    await stepUp(p.token);
    const other = await person();
    await stepUp(other.token);
    const notTheirs = await call('POST', '/v1/me/requests', other.token, { type: 'erase_partial', target: { kind: 'device', id: first.id } });
    expect(notTheirs.json()).toMatchObject({ status: 'declined', decline: { reason: 'UNREALISTIC' } });
    const res = await call('POST', '/v1/me/requests', p.token, { type: 'erase_partial', target: { kind: 'device', id: first.id } });
    expect(res.json().status).toBe('completed');
    const devices = (await call('GET', '/v1/me/data', p.token)).json().devices as { id: string }[];
    expect(devices.map((d) => d.id)).toEqual([second.id]);
    const db = stack.services.engine.db;
    expect(await db.selectFrom('devices').select('id').where('id', '=', first.id).execute()).toEqual([]);
    const tokens = await db.selectFrom('device_tokens').selectAll().where('device_ref', '=', first.id).execute();
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.every((t) => t.revoked_at !== null)).toBe(true);
  });

  it('R-DSR-8: an extension needs a reason, stays within the policy maximum and tells the person through the outbox', async () => {
    const p = await person();
    await stepUp(p.token);
    // An erasure interrupted by a crash after its first step is an open request the office must extend.
    stack.services.rights.doer.onErasureStep = () => {
      throw new Error('crash');
    };
    expect((await call('POST', '/v1/me/requests', p.token, { type: 'erase_account' })).statusCode).toBe(500);
    stack.services.rights.doer.onErasureStep = undefined;
    const [open] = (await call('GET', '/v1/me/requests', p.token)).json() as { id: string; dueAt: string; status: string }[];
    expect(open!.status).toBe('in_progress');
    expect((await admin('POST', `/v1/admin/requests/${open!.id}/extend`, { days: 61, reason: 'Too long an extension' })).json().code).toBe('EXTENSION_TOO_LONG');
    expect((await admin('POST', `/v1/admin/requests/${open!.id}/extend`, { days: 30 })).statusCode).toBe(400);
    const ext = await admin('POST', `/v1/admin/requests/${open!.id}/extend`, { days: 30, reason: 'Orders under legal hold are being re-encrypted' });
    expect(ext.statusCode, ext.body).toBe(200);
    expect(Date.parse(ext.json().dueAt) - Date.parse(open!.dueAt)).toBe(30 * 86_400_000);
    const mail = await stack.services.engine.db.selectFrom('outbox').select(['kind', 'purpose']).where('subject_id', '=', p.id).where('kind', '=', 'rights_request_extended').execute();
    expect(mail).toEqual([{ kind: 'rights_request_extended', purpose: 'subject_rights' }]);
    const done = await admin('POST', `/v1/admin/requests/${open!.id}/resume`);
    expect(done.json().status).toBe('completed');
    expect((await admin('POST', `/v1/admin/requests/${open!.id}/decline`, { reason: 'EXCESSIVE' })).json().code).toBe('CONFLICT');
  });

  it('R-DSR-4: staff decline an open request with a reason code; the person sees why and that they may complain', async () => {
    const p = await person();
    await stepUp(p.token);
    stack.services.rights.doer.onErasureStep = () => {
      throw new Error('crash');
    };
    await call('POST', '/v1/me/requests', p.token, { type: 'erase_account' });
    stack.services.rights.doer.onErasureStep = undefined;
    const [open] = (await call('GET', '/v1/me/requests', p.token)).json() as { id: string }[];
    expect((await admin('POST', `/v1/admin/requests/${open!.id}/decline`, { reason: 'BORED' })).statusCode).toBe(400);
    const res = await admin('POST', `/v1/admin/requests/${open!.id}/decline`, { reason: 'OTHERS_PRIVACY' });
    expect(res.statusCode, res.body).toBe(200);
    const seen = (await call('GET', `/v1/me/requests/${open!.id}`, p.token)).json();
    expect(seen).toMatchObject({ status: 'declined', decline: { reason: 'OTHERS_PRIVACY', explanation: expect.stringMatching(/another person/), complaint: expect.stringMatching(/supervisory authority/) } });
    expect(seen.trail.at(-1)).toMatchObject({ status: 'declined', reason: 'OTHERS_PRIVACY' });
  });
});
