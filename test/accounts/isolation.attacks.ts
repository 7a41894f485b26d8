import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { CompactEncrypt } from 'jose';
import type { InjectOptions, Response } from 'light-my-request';
import type { TestStack } from '../support/engines.js';
import { bearer, signIn, verifiedUser } from '../support/people.js';

/** `METHOD /pattern`, exactly as the app registered the route (params as `:name`). */
export type RouteKey = `${'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} /${string}`;

type User = Awaited<ReturnType<typeof verifiedUser>>;

/** A signed-in person with one of everything a person can own, made through the API. */
export interface Holder extends User {
  readonly orderId: string;
  readonly deviceRowId: string;
  readonly hardwareId: string;
  readonly contactId: string;
  /** The address of the person the holder invited (a third party's, not the holder's). */
  readonly contactEmail: string;
  readonly sealedName: string;
  readonly jwe: string;
  readonly receiptId: string;
  readonly requestId: string;
  readonly crashId: string;
}

/** A call the attacker makes: the route by its registered pattern, the values that fill it in. */
export interface Call {
  readonly params?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly payload?: unknown;
  /** Another token of the attacker's own (sign-out), else the attacker's main token. */
  readonly token?: string;
}

export interface World {
  readonly stack: TestStack;
  /** The victim: owns the data every attack aims at. */
  readonly a: Holder;
  /** The attacker: a signed-in person with data of her own, using only her own tokens. */
  readonly b: Holder;
  /** Calls the route with the attacker's token; the harness records the call. */
  asB(route: RouteKey, call?: Call): Promise<Response>;
}

const IMEI = { a: '356938035643809', b: '490154203237518' } as const;

const jweOf = async (text: string): Promise<string> =>
  new CompactEncrypt(new TextEncoder().encode(text)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(randomBytes(32));

const address = (name: string) => ({ name, line1: `${name} Strasse 1`, postalCode: '10115', city: 'Berlin', country: 'DE' });

/** Builds the request of a route key (the tests' one way to fill a pattern in). */
export function requestOf(route: RouteKey, call: Call, token: string | undefined): InjectOptions {
  const [method, pattern] = route.split(' ') as [InjectOptions['method'], string];
  let url = pattern.replace(/:(\w+)/g, (_m, name: string) => {
    const value = call.params?.[name];
    if (value === undefined) throw new Error(`${route}: no value for :${name}`);
    return encodeURIComponent(value);
  });
  if (call.query) url += `?${new URLSearchParams(call.query).toString()}`;
  return { method, url, headers: token ? bearer(token) : {}, ...(call.payload === undefined ? {} : { payload: call.payload as object }) };
}

async function ok(stack: TestStack, request: InjectOptions, status: number): Promise<Response> {
  const res = await stack.app.inject(request);
  if (res.statusCode !== status) throw new Error(`setup ${request.method} ${request.url}: ${res.statusCode} ${res.body}`);
  return res;
}

/** Signs a person up (stepped up) and gives them an order, a device, a contact, a sealed value, consents, a crash report and an export. */
export async function holder(stack: TestStack, tag: 'a' | 'b'): Promise<Holder> {
  const user = await verifiedUser(stack);
  const call = (method: InjectOptions['method'], url: string, payload?: object, status = 200) => ok(stack, { method, url, headers: user.auth, ...(payload ? { payload } : {}) }, status);
  const suffix = randomBytes(3).toString('hex');
  const order = await call('POST', '/v1/me/orders', {
    currency: 'EUR',
    items: [{ sku: `SKU-${tag}`, title: `Purifier for ${user.p.name}`, quantity: 1, unitPriceCents: 19900 }],
    delivery: { address: address(user.p.name) },
    billingAddress: address(user.p.name),
    card: { number: '4111111111111111' },
  }, 201);
  const hardwareId = `SMI-${tag.toUpperCase()}-${suffix}`;
  const device = await call('POST', '/v1/me/devices', { event: 'activation', deviceId: hardwareId, imei: IMEI[tag], model: 'Smartmi P2', firmware: '1.0.3', location: { lat: 52.520008, lon: 13.404954 } });
  const contactEmail = `invitee.${tag}.${suffix}@example.org`;
  const contact = await call('POST', '/v1/me/contacts', { name: `Invitee of ${user.p.name}`, email: contactEmail, reason: 'invite' }, 201);
  const sealedName = `${tag}-diary`;
  const jwe = await jweOf(`secret of ${tag}`);
  await call('PUT', `/v1/me/sealed/${sealedName}`, { jwe });
  const consent = await call('PUT', '/v1/me/consents/personalised_ads', { granted: tag === 'a' });
  await call('PUT', `/v1/me/consents/${stack.services.policy.telemetry.purpose}`, { granted: tag === 'a' });
  await call('PUT', '/v1/cookie-consent', { analytics: tag === 'a', preferences: tag === 'a', marketing: false });
  // The victim is in the User Experience Program, so an event refused to the attacker is refused for who she is.
  if (tag === 'a') await call('POST', '/v1/telemetry/events', [{ event: 'app_open', fields: { screen: 'home' } }]);
  const crash = await call('POST', '/v1/telemetry/crash', { body: `TypeError in ${tag} at main.js:3`, deviceId: hardwareId }, 201);
  const request = await call('POST', '/v1/me/requests', { type: 'export' }, 201);
  return {
    ...user,
    orderId: order.json().id,
    deviceRowId: device.json().id,
    hardwareId,
    contactId: contact.json().id,
    contactEmail,
    sealedName,
    jwe,
    receiptId: consent.json().receiptId,
    requestId: request.json().id,
    crashId: crash.json().id,
  };
}

/** What the victim sees of her own data through the API: every listing and every item by id. */
export async function viewOf(stack: TestStack, h: Holder): Promise<Record<string, unknown>> {
  const urls = [
    '/v1/me', '/v1/me/orders', '/v1/me/devices', '/v1/me/contacts', '/v1/me/sealed', `/v1/me/sealed/${h.sealedName}`, '/v1/me/consents',
    `/v1/me/consents/receipts/${h.receiptId}`, '/v1/me/requests', `/v1/me/requests/${h.requestId}`, `/v1/me/requests/${h.requestId}/export.json`, '/v1/cookie-consent',
  ];
  const view: Record<string, unknown> = {};
  for (const url of urls) {
    const res = await stack.app.inject({ method: 'GET', url, headers: h.auth });
    const body = res.json() as Record<string, unknown>;
    // The TCF string is encoded afresh on every read, with the time of the read as its Created/LastUpdated fields.
    if (url === '/v1/cookie-consent') delete body.tcString;
    view[url] = { status: res.statusCode, body };
  }
  return view;
}

/** Every value of the victim's that must never reach the attacker. */
const secretsOf = (a: Holder): string[] => [a.id, a.p.name, a.p.email.toLowerCase(), a.p.phone, a.p.postalAddress.line1, a.orderId, a.deviceRowId, a.hardwareId, a.contactId, a.jwe, a.receiptId, a.requestId, a.crashId];

function expectNothingOf(a: Holder, res: Response): void {
  for (const s of secretsOf(a)) expect(res.body, `the answer holds the victim's ${s}`).not.toContain(s);
}

async function expectProblem(res: Response | Promise<Response>, status: number, code: string): Promise<void> {
  const r = await res;
  expect(r.statusCode, r.body).toBe(status);
  expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(r.json().code).toBe(code);
}

const ids = (items: { id: string }[]) => items.map((i) => i.id);
const day = new Date().toISOString().slice(0, 10);

/**
 * One attack per route that is not public: the attacker calls it with her own token, against the victim's ids
 * wherever the route takes an id, and the answer is hers alone (or a refusal). The harness checks after every
 * attack that the victim's rows are unchanged and that the route was really reached with the attacker's token.
 */
export const ATTACKS: Record<RouteKey, (w: World) => Promise<void>> = {
  // --- the account -------------------------------------------------------------------------------------------
  'GET /v1/me': async ({ a, b, asB }) => {
    // No way to name another subject: an id in the query is ignored.
    const res = await asB('GET /v1/me', { query: { subjectId: a.id, id: a.id } });
    expect(res.json()).toMatchObject({ id: b.id, name: b.p.name });
    expectNothingOf(a, res);
  },
  'PATCH /v1/me': async ({ a, b, asB }) => {
    await expectProblem(asB('PATCH /v1/me', { payload: { subjectId: a.id, name: 'Mallory' } }), 400, 'UNKNOWN_FIELD');
    // Settings that fan out to other rows (the location precision re-coarsens devices) reach only the caller's.
    const res = await asB('PATCH /v1/me', { payload: { name: 'Renamed By Mallory', locationPrecision: 'off' } });
    expect(res.json()).toMatchObject({ id: b.id, name: 'Renamed By Mallory', locationPrecision: 'off' });
  },
  'POST /v1/me/verify': async ({ a, asB }) => {
    // The victim's password does not step up the attacker's session.
    await expectProblem(asB('POST /v1/me/verify', { payload: { password: a.p.password } }), 403, 'VERIFICATION_FAILED');
  },
  'POST /v1/me/verify/code': async ({ stack, b, asB }) => {
    const before = await stack.services.engine.db.selectFrom('outbox').select('id').execute();
    expect((await asB('POST /v1/me/verify/code')).statusCode).toBe(202);
    const sent = await stack.services.engine.db.selectFrom('outbox').select(['id', 'subject_id']).where('id', 'not in', ['', ...ids(before)]).execute();
    expect(sent.map((m) => m.subject_id)).toEqual([b.id]);
  },
  'DELETE /v1/sessions/current': async ({ stack, b, asB }) => {
    const second = await signIn(stack, b.p.email, b.p.password);
    expect((await asB('DELETE /v1/sessions/current', { token: second })).statusCode).toBe(204);
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(second) })).statusCode).toBe(401);
    // Only the session that asked ends: the attacker's other one still works (the victim's are checked by the harness).
    expect((await asB('GET /v1/me')).json().id).toBe(b.id);
  },

  // --- consents ----------------------------------------------------------------------------------------------
  'GET /v1/me/consents': async ({ a, asB }) => {
    const res = await asB('GET /v1/me/consents');
    const ads = (res.json().consents as { purpose: string; granted: boolean }[]).find((c) => c.purpose === 'personalised_ads');
    // The victim granted it; the attacker did not.
    expect(ads?.granted).toBe(false);
    expectNothingOf(a, res);
  },
  'PUT /v1/me/consents/:purpose': async ({ a, asB }) => {
    const res = await asB('PUT /v1/me/consents/:purpose', { params: { purpose: 'personalised_ads' }, payload: { granted: true } });
    expect(res.json().consent).toMatchObject({ purpose: 'personalised_ads', granted: true });
    expect(res.json().receiptId).not.toBe(a.receiptId);
    expect((await asB('PUT /v1/me/consents/:purpose', { params: { purpose: 'personalised_ads' }, payload: { granted: false } })).json().consent.granted).toBe(false);
  },
  'GET /v1/me/consents/receipts/:id': async ({ a, b, asB }) => {
    await expectProblem(asB('GET /v1/me/consents/receipts/:id', { params: { id: a.receiptId } }), 404, 'NOT_FOUND');
    const own = await asB('GET /v1/me/consents/receipts/:id', { params: { id: b.receiptId } });
    expect(own.json().receipt.piiPrincipalId).toBe(b.id);
  },
  'GET /v1/cookie-consent': async ({ a, asB }) => {
    const res = await asB('GET /v1/cookie-consent');
    // The victim accepted analytics and preferences; the attacker's own choices come back.
    expect(res.json().categories).toMatchObject({ analytics: false, preferences: false });
    expectNothingOf(a, res);
  },
  'PUT /v1/cookie-consent': async ({ asB }) => {
    const res = await asB('PUT /v1/cookie-consent', { payload: { analytics: false, preferences: false, marketing: true } });
    expect(res.json().categories).toMatchObject({ analytics: false, marketing: true });
  },
  'POST /v1/decisions': async ({ a, asB }) => {
    // A user's token is not the service API key: nobody learns the victim's consent state this way.
    await expectProblem(asB('POST /v1/decisions', { payload: { subjectId: a.id, purpose: 'personalised_ads', category: 'user.behavior.purchase_history' } }), 401, 'API_KEY_INVALID');
  },
  'POST /v1/decisions/batch': async ({ a, asB }) => {
    await expectProblem(asB('POST /v1/decisions/batch', { payload: { decisions: [{ subjectId: a.id, purpose: 'personalised_ads', category: 'user.behavior.purchase_history' }] } }), 401, 'API_KEY_INVALID');
  },

  // --- telemetry ---------------------------------------------------------------------------------------------
  'POST /v1/telemetry/events': async ({ asB }) => {
    // The victim is opted in (her events are accepted), the attacker is not: the decision is about the caller.
    await expectProblem(asB('POST /v1/telemetry/events', { payload: [{ event: 'app_open', fields: { screen: 'home' } }] }), 403, 'CONSENT_MISSING');
  },
  'POST /v1/telemetry/crash': async ({ stack, a, b, asB }) => {
    // Naming the victim's device does not file the report under the victim.
    const res = await asB('POST /v1/telemetry/crash', { payload: { body: 'NullPointerException at Main.java:7', deviceId: a.hardwareId } });
    expect(res.statusCode, res.body).toBe(201);
    const row = await stack.services.engine.db.selectFrom('crash_reports').select('subject_id').where('id', '=', res.json().id).executeTakeFirstOrThrow();
    expect(row.subject_id).toBe(b.id);
  },
  'GET /v1/telemetry/crash/:id': async ({ a, asB }) => {
    await expectProblem(asB('GET /v1/telemetry/crash/:id', { params: { id: a.crashId }, query: { purpose: 'crash_diagnostics' } }), 403, 'FORBIDDEN');
  },
  'GET /v1/insights/events': async ({ asB }) => {
    await expectProblem(asB('GET /v1/insights/events', { query: { metric: 'count', groupBy: 'event', from: day, to: day } }), 403, 'FORBIDDEN');
  },
  'POST /v1/insights/releases': async ({ asB }) => {
    await expectProblem(asB('POST /v1/insights/releases', { payload: { dataset: 'isolation', groupBy: 'event', from: day, to: day } }), 403, 'FORBIDDEN');
  },

  // --- data subject requests ---------------------------------------------------------------------------------
  'POST /v1/me/requests': async ({ a, b, asB }) => {
    expect((await asB('POST /v1/me/verify', { payload: { password: b.p.password } })).statusCode).toBe(200);
    for (const target of [{ kind: 'device', id: a.deviceRowId }, { kind: 'order_delivery', id: a.orderId }, { kind: 'contact', id: a.contactId }]) {
      const res = await asB('POST /v1/me/requests', { payload: { type: 'erase_partial', target } });
      expect(res.json(), target.kind).toMatchObject({ status: 'declined', decline: { reason: 'UNREALISTIC' } });
    }
  },
  'GET /v1/me/requests': async ({ a, b, asB }) => {
    const res = await asB('GET /v1/me/requests');
    expect(ids(res.json())).toContain(b.requestId);
    expectNothingOf(a, res);
  },
  'GET /v1/me/requests/:id': async ({ a, b, asB }) => {
    await expectProblem(asB('GET /v1/me/requests/:id', { params: { id: a.requestId } }), 404, 'NOT_FOUND');
    expect((await asB('GET /v1/me/requests/:id', { params: { id: b.requestId } })).json().id).toBe(b.requestId);
  },
  'GET /v1/me/requests/:id/export.json': async ({ a, b, asB }) => {
    await expectProblem(asB('GET /v1/me/requests/:id/export.json', { params: { id: a.requestId } }), 404, 'NOT_FOUND');
    const own = await asB('GET /v1/me/requests/:id/export.json', { params: { id: b.requestId } });
    expect(own.json().account.email).toBe(b.p.email.toLowerCase());
    expectNothingOf(a, own);
  },
  'GET /v1/me/requests/:id/export.html': async ({ a, b, asB }) => {
    await expectProblem(asB('GET /v1/me/requests/:id/export.html', { params: { id: a.requestId } }), 404, 'NOT_FOUND');
    const own = await asB('GET /v1/me/requests/:id/export.html', { params: { id: b.requestId } });
    expect(own.statusCode).toBe(200);
    expectNothingOf(a, own);
  },
  'GET /v1/me/data': async ({ a, b, asB }) => {
    const res = await asB('GET /v1/me/data');
    expect(res.json().account.email).toBe(b.p.email.toLowerCase());
    expectNothingOf(a, res);
  },

  // --- staff routes: a user's token is no admin key, whatever subject it names ---------------------------------
  'GET /v1/admin/requests': async ({ asB }) => {
    await expectProblem(asB('GET /v1/admin/requests'), 401, 'API_KEY_INVALID');
  },
  'POST /v1/admin/requests': async ({ a, asB }) => {
    await expectProblem(asB('POST /v1/admin/requests', { payload: { subjectId: a.id, type: 'erase_account', identityCheck: 'id_document' } }), 401, 'API_KEY_INVALID');
  },
  'POST /v1/admin/requests/:id/extend': async ({ a, asB }) => {
    await expectProblem(asB('POST /v1/admin/requests/:id/extend', { params: { id: a.requestId }, payload: { days: 30, reason: 'Mallory wants it later' } }), 401, 'API_KEY_INVALID');
  },
  'POST /v1/admin/requests/:id/override': async ({ a, asB }) => {
    await expectProblem(asB('POST /v1/admin/requests/:id/override', { params: { id: a.requestId }, payload: { justification: 'Mallory says the decline was wrong' } }), 401, 'API_KEY_INVALID');
  },
  'POST /v1/admin/requests/:id/decline': async ({ a, asB }) => {
    await expectProblem(asB('POST /v1/admin/requests/:id/decline', { params: { id: a.requestId }, payload: { reason: 'REPETITIVE' } }), 401, 'API_KEY_INVALID');
  },
  'POST /v1/admin/requests/:id/resume': async ({ a, asB }) => {
    await expectProblem(asB('POST /v1/admin/requests/:id/resume', { params: { id: a.requestId } }), 401, 'API_KEY_INVALID');
  },
  'PATCH /v1/admin/orders/:id': async ({ a, asB }) => {
    await expectProblem(asB('PATCH /v1/admin/orders/:id', { params: { id: a.orderId }, payload: { deliveryStatus: 'shipped' } }), 401, 'API_KEY_INVALID');
  },

  // --- orders, devices, contacts -----------------------------------------------------------------------------
  'POST /v1/me/orders': async ({ a, asB }) => {
    const res = await asB('POST /v1/me/orders', {
      payload: { currency: 'EUR', items: [{ sku: 'SKU-M', title: 'Fan', quantity: 1, unitPriceCents: 4900 }], delivery: { address: address('Mallory') }, billingAddress: address('Mallory') },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().id).not.toBe(a.orderId);
  },
  'GET /v1/me/orders': async ({ a, b, asB }) => {
    const res = await asB('GET /v1/me/orders');
    expect(ids(res.json().orders)).toContain(b.orderId);
    expectNothingOf(a, res);
  },
  'POST /v1/me/devices': async ({ a, asB }) => {
    // The victim's device identifiers activate a device of the attacker's own: a row of hers, never the victim's.
    const res = await asB('POST /v1/me/devices', { payload: { event: 'firmware_update', deviceId: a.hardwareId, imei: IMEI.a, model: 'Smartmi P2', firmware: '9.9.9', location: { lat: 1, lon: 1 } } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().id).not.toBe(a.deviceRowId);
  },
  'GET /v1/me/devices': async ({ a, b, asB }) => {
    const res = await asB('GET /v1/me/devices');
    expect(ids(res.json().devices)).toContain(b.deviceRowId);
    expect(ids(res.json().devices)).not.toContain(a.deviceRowId);
  },
  'PATCH /v1/me/devices/:id': async ({ a, asB }) => {
    await expectProblem(asB('PATCH /v1/me/devices/:id', { params: { id: a.deviceRowId }, payload: { locationPrecision: 'off' } }), 404, 'NOT_FOUND');
  },
  'POST /v1/me/contacts': async ({ a, asB }) => {
    // The same person the victim invited: a contact of the attacker's own, the victim's left alone.
    const res = await asB('POST /v1/me/contacts', { payload: { name: 'Shared by Mallory', email: a.contactEmail, reason: 'share' } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().id).not.toBe(a.contactId);
  },
  'GET /v1/me/contacts': async ({ a, b, asB }) => {
    const res = await asB('GET /v1/me/contacts');
    expect(ids(res.json().contacts)).toContain(b.contactId);
    expectNothingOf(a, res);
  },
  'DELETE /v1/me/contacts/:id': async ({ a, asB }) => {
    await expectProblem(asB('DELETE /v1/me/contacts/:id', { params: { id: a.contactId } }), 404, 'NOT_FOUND');
  },
  'POST /v1/contacts/accept': async ({ a, asB }) => {
    // The victim's contact id is no invitation code; the contact stays the victim's, pending.
    await expectProblem(asB('POST /v1/contacts/accept', { payload: { code: a.contactId.replaceAll('-', '') } }), 400, 'INVITATION_CODE_INVALID');
  },

  // --- user-sealed values (names are per person: the same name is another value) ------------------------------
  'GET /v1/me/sealed': async ({ a, b, asB }) => {
    const res = await asB('GET /v1/me/sealed');
    expect(res.json().sealed.map((s: { name: string }) => s.name)).toEqual([b.sealedName]);
    expectNothingOf(a, res);
  },
  'GET /v1/me/sealed/:name': async ({ a, asB }) => {
    await expectProblem(asB('GET /v1/me/sealed/:name', { params: { name: a.sealedName } }), 404, 'NOT_FOUND');
  },
  'PUT /v1/me/sealed/:name': async ({ a, asB }) => {
    const mine = await jweOf('Mallory was here');
    const res = await asB('PUT /v1/me/sealed/:name', { params: { name: a.sealedName }, payload: { jwe: mine } });
    expect(res.json()).toMatchObject({ name: a.sealedName, jwe: mine });
    expect((await asB('GET /v1/me/sealed/:name', { params: { name: a.sealedName } })).json().jwe).toBe(mine);
    expect((await asB('DELETE /v1/me/sealed/:name', { params: { name: a.sealedName } })).statusCode).toBe(204);
  },
  'DELETE /v1/me/sealed/:name': async ({ a, asB }) => {
    await expectProblem(asB('DELETE /v1/me/sealed/:name', { params: { name: a.sealedName } }), 404, 'NOT_FOUND');
  },
};
