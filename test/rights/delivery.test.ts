import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { staffKey, verifiedUser } from '../support/people.js';

const address = (line1: string) => ({ name: 'Fern Example', line1, postalCode: '10115', city: 'Berlin', country: 'DE' });

/** R-DSR-2 (part): the delivery details of an order, erasable on their own once it is delivered; the invoice stays. */
describe.each(ENGINES)('order delivery state and delivery-address erasure on %s', (kind) => {
  let stack: TestStack;
  let adminKey: string;
  beforeAll(async () => {
    stack = await createStack(kind);
    adminKey = await staffKey(stack, 'shipping');
  });
  afterAll(async () => stack.close());

  type Method = 'GET' | 'POST' | 'PATCH';
  const call = (method: Method, url: string, token?: string, payload?: unknown) =>
    stack.app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload === undefined ? {} : { payload: payload as object }) });
  const setStatus = (id: string, payload: unknown, key: string | undefined = adminKey) =>
    stack.app.inject({ method: 'PATCH', url: `/v1/admin/orders/${id}`, headers: key ? { 'x-api-key': key } : {}, payload: payload as object });

  async function person(): Promise<{ id: string; token: string }> {
    const { id, token } = await verifiedUser(stack, { name: 'Dora Delivery' });
    return { id, token };
  }
  async function placeOrder(token: string, line1: string): Promise<string> {
    const res = await call('POST', '/v1/me/orders', token, {
      currency: 'EUR', items: [{ sku: 'FAN-2', title: 'Standing fan 2', quantity: 1, unitPriceCents: 8900 }],
      delivery: { address: address(line1), phone: '+49 30 1234567', instructions: 'Ring twice' }, billingAddress: address('7 Invoice Lane'),
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  }
  const ordersOf = async (token: string) => (await call('GET', '/v1/me/orders', token)).json().orders as Record<string, unknown>[];
  const eraseDelivery = (token: string, id: string) => call('POST', '/v1/me/requests', token, { type: 'erase_partial', target: { kind: 'order_delivery', id } });

  it('R-ACC-2: staff move an order pending → shipped → delivered with the admin API key; the owner reads the status, it never moves back', async () => {
    const p = await person();
    const id = await placeOrder(p.token, '3 Parcel Row');
    expect((await ordersOf(p.token))[0]).toMatchObject({ id, deliveryStatus: 'pending', deliveredAt: null, deliveryErasedAt: null });
    const anon = await setStatus(id, { deliveryStatus: 'shipped' }, '');
    expect(anon.statusCode, anon.body).toBe(401);
    expect(anon.json().code).toBe('API_KEY_INVALID');
    expect((await setStatus(id, { deliveryStatus: 'lost' })).json().code).toBe('VALIDATION_FAILED');
    expect((await setStatus(id, { deliveryStatus: 'shipped', address: 'x' })).json().code).toBe('UNKNOWN_FIELD');
    expect((await setStatus(id, { deliveryStatus: 'shipped', deliveredAt: '2026-01-01T00:00:00.000Z' })).json().code).toBe('VALIDATION_FAILED');
    expect((await setStatus(randomUUID(), { deliveryStatus: 'shipped' })).statusCode).toBe(404);
    const shipped = await setStatus(id, { deliveryStatus: 'shipped' });
    expect(shipped.statusCode, shipped.body).toBe(200);
    expect(shipped.json()).toEqual({ id, deliveryStatus: 'shipped', deliveredAt: null });
    const deliveredAt = new Date(Date.now() - 3_600_000).toISOString();
    const delivered = await setStatus(id, { deliveryStatus: 'delivered', deliveredAt });
    // Staff see the state only: nothing of the address travels back.
    expect(delivered.json()).toEqual({ id, deliveryStatus: 'delivered', deliveredAt });
    const back = await setStatus(id, { deliveryStatus: 'pending' });
    expect(back.statusCode).toBe(409);
    expect(back.json().code).toBe('CONFLICT');
    expect((await ordersOf(p.token))[0]).toMatchObject({ id, deliveryStatus: 'delivered', deliveredAt, delivery: { address: { line1: '3 Parcel Row' } } });
    const audit = await stack.services.engine.db.selectFrom('audit_log').select(['action', 'actor', 'details']).where('subject_id', '=', p.id).where('action', '=', 'orders.delivery_status').execute();
    expect(audit.map((a) => a.actor)).toEqual([expect.stringMatching(/^service:apikey:/), expect.stringMatching(/^service:apikey:/)]);
    expect(JSON.stringify(audit)).not.toContain('Parcel Row');
  });

  it('R-ACC-2: a deliveredAt that is no real time (a leap second) is a 400, not a 500', async () => {
    const p = await person();
    const id = await placeOrder(p.token, '6 Leap Street');
    const res = await setStatus(id, { deliveryStatus: 'delivered', deliveredAt: '2016-12-31T23:59:60Z' });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
  });

  it('R-ACC-2: two staff updates at once never move the status backwards: the later step stands, or the stale one is refused 409', async () => {
    const p = await person();
    const id = await placeOrder(p.token, '4 Race Lane');
    const [a, b] = await Promise.all([setStatus(id, { deliveryStatus: 'delivered' }), setStatus(id, { deliveryStatus: 'shipped' })]);
    const final = (await ordersOf(p.token)).find((o) => o.id === id)!.deliveryStatus;
    if (a.statusCode === 200 && b.statusCode === 200) expect(final).toBe('delivered');
    else {
      expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
      expect(final).toBe(a.statusCode === 200 ? 'delivered' : 'shipped');
    }
  });

  it('R-DSR-2: a delivery address cannot be erased before delivery (ORDER_NOT_DELIVERED, 409): it is still needed to deliver the order', async () => {
    const p = await person();
    const id = await placeOrder(p.token, '5 Waiting Street');
    for (const status of [undefined, 'shipped'] as const) {
      if (status) expect((await setStatus(id, { deliveryStatus: status })).statusCode).toBe(200);
      const refused = await eraseDelivery(p.token, id);
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(refused.json()).toMatchObject({ code: 'ORDER_NOT_DELIVERED', details: { deliveryStatus: status ?? 'pending' } });
    }
    // Refused before it is filed, like a missing step-up: no request to screen, nothing erased.
    expect((await call('GET', '/v1/me/requests', p.token)).json()).toEqual([]);
    expect((await ordersOf(p.token))[0]).toMatchObject({ delivery: { address: { line1: '5 Waiting Street' }, instructions: 'Ring twice' }, deliveryErasedAt: null });
    const row = await stack.services.engine.db.selectFrom('orders').select('delivery').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.delivery).not.toBeNull();
  });

  it('R-DSR-2: once delivered, the delivery details are erased on their own; the invoice data under its tax-law hold stays; another person\'s order is declined', async () => {
    const p = await person();
    const id = await placeOrder(p.token, '9 Gone Avenue');
    const keep = await placeOrder(p.token, '11 Other Road');
    expect((await setStatus(id, { deliveryStatus: 'delivered' })).statusCode).toBe(200);
    const other = await person();
    const notTheirs = await eraseDelivery(other.token, id);
    expect(notTheirs.json()).toMatchObject({ status: 'declined', decline: { reason: 'UNREALISTIC' } });
    const done = await eraseDelivery(p.token, id);
    expect(done.statusCode, done.body).toBe(201);
    expect(done.json()).toMatchObject({ type: 'erase_partial', status: 'completed' });
    const orders = await ordersOf(p.token);
    const erased = orders.find((o) => o.id === id)!;
    expect(erased).toMatchObject({ delivery: null, deliveryErasedAt: expect.any(String), deliveryStatus: 'delivered', billingAddress: { line1: '7 Invoice Lane' }, items: [{ sku: 'FAN-2' }] });
    expect(orders.find((o) => o.id === keep)).toMatchObject({ delivery: { address: { line1: '11 Other Road' } } });
    // The ciphertext itself is gone from the row, not just hidden from the view.
    const db = stack.services.engine.db;
    expect((await db.selectFrom('orders').select('delivery').where('id', '=', id).executeTakeFirstOrThrow()).delivery).toBeNull();
    // Tax records still open the invoice for the legal obligation.
    const tax = { actor: { type: 'service' as const, id: 'tax-office' }, requestId: randomUUID() };
    expect(await stack.services.orders.readField(tax, id, 'billing_address', 'legal_obligation')).toContain('7 Invoice Lane');
    expect(await stack.services.orders.readField(tax, id, 'delivery', 'legal_obligation')).toBeNull();
    // The access view agrees; the audit names the fact, not the address.
    const data = (await call('GET', '/v1/me/data', p.token)).json();
    expect(data.orders.find((o: { id: string }) => o.id === id).delivery).toBeNull();
    const audit = await db.selectFrom('audit_log').select(['action', 'details']).where('subject_id', '=', p.id).where('action', '=', 'orders.delivery_erased').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain('Gone Avenue');
  });

  it('R-DSR-2: account erasure after a delivery erasure keeps the invoice under the hold key, without delivery details', async () => {
    const p = await person();
    const id = await placeOrder(p.token, '13 Final Close');
    expect((await setStatus(id, { deliveryStatus: 'delivered' })).statusCode).toBe(200);
    expect((await eraseDelivery(p.token, id)).json().status).toBe('completed');
    const erased = await call('POST', '/v1/me/requests', p.token, { type: 'erase_account' });
    expect(erased.json()).toMatchObject({ status: 'completed', legalHolds: [{ record: `order:${id}`, reason: 'tax_law_invoice_retention' }] });
    const tax = { actor: { type: 'service' as const, id: 'tax-office' }, requestId: randomUUID() };
    expect(await stack.services.orders.readField(tax, id, 'items', 'legal_obligation')).toContain('Standing fan 2');
    expect(await stack.services.orders.readField(tax, id, 'delivery', 'legal_obligation')).toBeNull();
  });
});
