import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { bearer, signIn } from '../support/people.js';
import { collectAll } from '../../src/modules/rights/rights.collector.js';
import { actorLabel, type ActorContext } from '../../src/internal/context.js';
import { makePerson, userCtx } from './person.js';

/** More than the 500 the owner's order listing stops at. */
const ORDERS = 521;
const fresh = () => ({ stepUpAt: new Date().toISOString() });

interface OrderOut {
  readonly id: string;
  readonly placedAt: string;
  readonly items: readonly { sku: string }[];
}

describe.each(ENGINES)('a complete access view and export on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  /**
   * A person with ORDERS orders: one placed through the orders service, the others copies of its sealed row under
   * new ids (the same person's ciphertext, so each opens like a placed one). Three orders share each placing time,
   * so page boundaries fall inside ties and the walk's tie-break by id is exercised.
   */
  async function personWithManyOrders(): Promise<{ id: string; email: string; orderIds: string[] }> {
    const person = await makePerson(stack, 1);
    const { db } = stack.services.engine;
    const row = await db.selectFrom('orders').selectAll().where('id', '=', person.orderIds[0]!).executeTakeFirstOrThrow();
    const start = Date.parse(row.placed_at);
    const copies = Array.from({ length: ORDERS - 1 }, (_, i) => ({ ...row, id: randomUUID(), placed_at: new Date(start - (Math.floor(i / 3) + 1) * 1000).toISOString() }));
    for (let i = 0; i < copies.length; i += 100) await db.insertInto('orders').values(copies.slice(i, i + 100)).execute();
    return { id: person.id, email: person.email, orderIds: [row.id, ...copies.map((c) => c.id)] };
  }

  const idsOf = (orders: readonly OrderOut[]) => orders.map((o) => o.id);

  it('R-DSR-1: a person with more than 500 orders sees every one of them, newest first, in the access view and GET /v1/me/data, walked page by page', async () => {
    const person = await personWithManyOrders();
    const deps = stack.services.rights.deps;
    const data = await collectAll(deps, person.id);
    const orders = data.orders as OrderOut[];
    expect(orders).toHaveLength(ORDERS);
    expect([...idsOf(orders)].sort()).toEqual([...person.orderIds].sort());
    expect(orders.every((o) => o.items[0]?.sku === 'AP-1')).toBe(true);
    for (let i = 1; i < orders.length; i++) expect(orders[i - 1]!.placedAt >= orders[i]!.placedAt).toBe(true);
    // Small pages (7 does not divide the groups of 3 that share a time): the same orders in the same order, none twice.
    const paged = await collectAll({ ...deps, exportPageSize: 7 }, person.id);
    expect(idsOf(paged.orders as OrderOut[])).toEqual(idsOf(orders));
    const holds = paged.legalHolds as { record: string; reason: string }[];
    expect(holds.map((h) => h.record).sort()).toEqual(person.orderIds.map((id) => `order:${id}`).sort());
    expect(new Set(holds.map((h) => h.reason))).toEqual(new Set(['tax_law_invoice_retention']));
    expect(paged.notIncluded).toEqual([]);
    const token = await signIn(stack, person.email, 'correct horse battery staple');
    const res = await stack.app.inject({ method: 'GET', url: '/v1/me/data', headers: bearer(token) });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { orders: OrderOut[]; legalHolds: unknown[] };
    expect(idsOf(body.orders)).toEqual(idsOf(orders));
    expect(body.legalHolds).toHaveLength(ORDERS);
  });

  it('R-DSR-6: the export file holds every order and every order\'s legal hold of a person with more than 500 orders', async () => {
    const person = await personWithManyOrders();
    const r = await stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'export', params: {}, verification: fresh() });
    expect(r.status).toBe('completed');
    const chunks: Buffer[] = [];
    for await (const c of await stack.services.rights.exports.open(userCtx(person.id), person.id, r.id, 'json')) chunks.push(Buffer.from(c as Buffer));
    const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { orders: OrderOut[]; legalHolds: { record: string }[] };
    expect([...idsOf(json.orders)].sort()).toEqual([...person.orderIds].sort());
    expect(json.legalHolds.map((h) => h.record).sort()).toEqual(person.orderIds.map((id) => `order:${id}`).sort());
  });

  it('R-DSR-1: after erasure, every record kept under a legal hold is listed once, with reason and end date, across pages', async () => {
    const person = await makePerson(stack, 10);
    const r = await stack.services.rights.requests.file(userCtx(person.id), { subjectId: person.id, type: 'erase_account', params: {}, verification: fresh() });
    expect(r.status).toBe('completed');
    // The first order's hold had ended, so it was purged; the other nine are kept under the hold key.
    const kept = person.orderIds.slice(1).map((id) => `order:${id}`).sort();
    expect(r.legalHolds.map((h) => h.record).sort()).toEqual(kept);
    const data = await collectAll({ ...stack.services.rights.deps, exportPageSize: 4 }, person.id);
    const holds = data.legalHolds as { record: string; reason: string; until: string }[];
    expect(holds.map((h) => h.record).sort()).toEqual(kept);
    expect(holds).toEqual([...r.legalHolds].sort((a, b) => (a.until === b.until ? (a.record < b.record ? -1 : 1) : a.until < b.until ? -1 : 1)));
    expect(data.orders).toEqual([]);
  });

  it('R-DSR-1: the accesses list every use by staff and services across pages, in order, and none of the person\'s own actions', async () => {
    const person = await makePerson(stack, 1);
    const orderId = person.orderIds[0]!;
    const { orders, audit, engine } = stack.services;
    const payments: ActorContext = { actor: { type: 'service', id: 'payments' }, requestId: randomUUID() };
    const support: ActorContext = { actor: { type: 'staff', id: 'support-7' }, requestId: randomUUID() };
    const mine = userCtx(person.id);
    // The person's own entries come first and in between, more of them than fit a page.
    for (let i = 0; i < 5; i++) await audit.append(engine.db, mine, { action: 'accounts.profile_viewed', subjectId: person.id });
    const used: string[] = [];
    for (let i = 0; i < 12; i++) {
      await orders.readField(i % 2 ? support : payments, orderId, i % 3 ? 'items' : 'bank_account', 'process_orders');
      used.push(actorLabel((i % 2 ? support : payments).actor));
      await audit.append(engine.db, mine, { action: 'accounts.profile_viewed', subjectId: person.id });
    }
    await orders.setDeliveryStatus(support, orderId, 'shipped');
    used.push(actorLabel(support.actor));

    const data = await collectAll({ ...stack.services.rights.deps, exportPageSize: 4 }, person.id);
    const accesses = data.accesses as { at: string; actor: string; action: string; purpose: string | null }[];
    expect(accesses.some((a) => a.actor === actorLabel(mine.actor))).toBe(false);
    const ours = accesses.filter((a) => a.actor === actorLabel(payments.actor) || a.actor === actorLabel(support.actor));
    expect(ours.map((a) => a.actor)).toEqual(used);
    expect(ours.map((a) => a.action)).toEqual([...Array<string>(12).fill('orders.field_read'), 'orders.delivery_status']);
    expect(ours.every((a) => a.purpose === 'process_orders')).toBe(true);
    // Everything the log holds about the person from anyone else, in the log's order: nothing lost between pages.
    const all = await engine.db.selectFrom('audit_log').select(['seq', 'at', 'actor', 'action', 'purpose']).where('subject_id', '=', person.id).orderBy('seq').execute();
    expect(all.filter((a) => a.actor === actorLabel(mine.actor)).length).toBeGreaterThan(4);
    expect(accesses).toEqual(all.filter((a) => a.actor !== actorLabel(mine.actor)).map(({ at, actor, action, purpose }) => ({ at, actor, action, purpose })));
    // The default page size gives the same list.
    expect((await collectAll(stack.services.rights.deps, person.id)).accesses).toEqual(accesses);
  });
});
