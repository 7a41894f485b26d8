import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { appError } from '../vault/support.js';
import { countRows, expectProblem, leaks, luhnNumber, signUpUser, userCtx, type User } from './support.js';

const address = (name: string) => ({ name, line1: '9 Quay Road', postalCode: '20095', city: 'Hamburg', country: 'DE' });

describe.each(ENGINES)('orders on %s', (kind) => {
  let stack: TestStack;
  let ana: User;
  let bo: User;
  const card = luhnNumber('49', 16);
  const iban = 'DE89370400440532013000';
  const holder = 'Ottilie Quastenflosser';
  const order = () => ({
    currency: 'EUR',
    items: [{ sku: 'PUR-2', title: 'Air purifier 2', quantity: 2, unitPriceCents: 12_950 }],
    delivery: { address: address(holder), phone: '+49 40 1234567', instructions: 'Leave at the Zwiebelturm' },
    billingAddress: address(holder),
    bankAccount: { holder, iban },
    card: { number: card.replace(/(\d{4})/g, '$1 ').trim() },
    creditCheck: { provider: 'Kreditauskunft Nordlicht', result: 'approved' as const, score: 812, checkedAt: '2026-11-20T10:00:00.000Z' },
    contactRecords: [{ at: '2026-11-21T09:00:00.000Z', channel: 'phone' as const, summary: 'Asked about the Zwiebelturm delivery window' }],
  });

  beforeAll(async () => {
    stack = await createStack(kind);
    ana = await signUpUser(stack);
    bo = await signUpUser(stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('R-ACC-2: an order keeps delivery, billing, bank, card token, credit check and contact records, with a legal hold', async () => {
    const res = await stack.app.inject({ method: 'POST', url: '/v1/me/orders', headers: ana.auth, payload: order() });
    expect(res.statusCode, res.body).toBe(201);
    const o = res.json();
    expect(o.card).toEqual({ token: expect.stringMatching(/^tok_/), brand: 'visa', last4: card.slice(-4) });
    expect(o.bankAccount).toEqual({ holder, iban: 'DE** **** 3000' });
    expect(o.totalCents).toBe(25_900);
    expect(o.creditCheck.result).toBe('approved');
    expect(o.contactRecords).toHaveLength(1);
    // The tax-law retention of invoices (purchase history: 10 years after the order) becomes the legal hold.
    const years = (Date.parse(o.legalHoldUntil) - Date.parse(o.placedAt)) / (365 * 86_400_000);
    expect(years).toBe(10);
    const list = await stack.app.inject({ method: 'GET', url: '/v1/me/orders', headers: ana.auth });
    expect(list.json().orders.map((x: { id: string }) => x.id)).toEqual([o.id]);
    expect(list.json().orders[0].card.token).toBe(o.card.token);
  });

  it('R-ACC-2: the card number, IBAN and names never reach the stored bytes or the logs', async () => {
    const spaced = card.replace(/(\d{4})/g, '$1 ').trim();
    // Positive control: the scan does find what is stored in clear (the order id), so an empty result means something.
    const [o] = (await stack.app.inject({ method: 'GET', url: '/v1/me/orders', headers: ana.auth })).json().orders;
    expect(leaks(stack, [o.id])).toEqual([o.id]);
    expect(leaks(stack, [card, spaced, card.slice(0, 12), iban, holder, 'Zwiebelturm', 'Kreditauskunft Nordlicht'])).toEqual([]);
  });

  it('R-ACC-2: bank account and credit check open only for the purposes the policy gives them', async () => {
    const { orders } = stack.services;
    const [o] = (await stack.app.inject({ method: 'GET', url: '/v1/me/orders', headers: ana.auth })).json().orders;
    const svc = userCtx('payments-service');
    expect(JSON.parse((await orders.readField(svc, o.id, 'bank_account', 'process_orders'))!).iban).toBe(iban);
    expect(JSON.parse((await orders.readField(svc, o.id, 'bank_account', 'legal_obligation'))!).iban).toBe(iban);
    expect((await appError(orders.readField(svc, o.id, 'bank_account', 'personalised_ads'))).code).toBe('PURPOSE_DENIED');
    expect((await appError(orders.readField(svc, o.id, 'bank_account', 'provide_service'))).code).toBe('PURPOSE_DENIED');
    expect(JSON.parse((await orders.readField(svc, o.id, 'credit_check', 'security_fraud'))!).score).toBe(812);
    expect((await appError(orders.readField(svc, o.id, 'credit_check', 'process_orders'))).code).toBe('PURPOSE_DENIED');
    expect((await appError(orders.readField(svc, o.id, 'credit_check', 'marketing_messages'))).code).toBe('PURPOSE_DENIED');
    expect((await appError(orders.readField(svc, o.id, 'card', 'made_up_purpose'))).code).toBe('PURPOSE_DENIED');
  });

  it('R-ACC-2: bad input is refused with a problem code and nothing is written', async () => {
    const before = await countRows(stack, 'orders');
    const post = (payload: unknown) => ({ method: 'POST' as const, url: '/v1/me/orders', headers: ana.auth, payload: payload as object });
    const badCard = { ...order(), card: { number: `${card.slice(0, 15)}${(Number(card[15]) + 1) % 10}` } };
    await expectProblem(stack, post(badCard), 400, 'CARD_INVALID');
    await expectProblem(stack, post({ ...order(), bankAccount: { holder, iban: 'DE89370400440532013001' } }), 400, 'BANK_ACCOUNT_INVALID');
    await expectProblem(stack, post({ ...order(), coupon: 'FREE' }), 400, 'UNKNOWN_FIELD');
    await expectProblem(stack, post({ ...order(), card: { number: card, cvc: '123' } }), 400, 'UNKNOWN_FIELD');
    await expectProblem(stack, post({ ...order(), items: [{ sku: 'X', title: 'X', quantity: '2', unitPriceCents: 1 }] }), 400, 'VALIDATION_FAILED');
    await expectProblem(stack, post({ ...order(), items: [] }), 400, 'VALIDATION_FAILED');
    await expectProblem(stack, post({ ...order(), delivery: { address: { ...address(holder), line1: 'x'.repeat(201) } } }), 400, 'VALIDATION_FAILED');
    await expectProblem(stack, { method: 'POST', url: '/v1/me/orders', headers: { ...ana.auth, 'content-type': 'application/json' }, payload: JSON.stringify({ ...order(), pad: 'x'.repeat(300_000) }) }, 413, 'BODY_TOO_LARGE');
    expect(await countRows(stack, 'orders')).toBe(before);
    // The refused card number was not logged either.
    expect(stack.logs.text()).not.toContain(badCard.card.number);
  });

  it("R-ACC-2: nobody reads another user's orders; without a token there are none", async () => {
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me/orders', headers: bo.auth })).json().orders).toEqual([]);
    await expectProblem(stack, { method: 'GET', url: '/v1/me/orders' }, 401, 'UNAUTHENTICATED');
    await expectProblem(stack, { method: 'POST', url: '/v1/me/orders', payload: order() }, 401, 'UNAUTHENTICATED');
  });
});
