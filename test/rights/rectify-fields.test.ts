import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { policyFile } from '../support/policy-text.js';
import { verifiedUser } from '../support/people.js';
import { systemContext } from '../../src/internal/context.js';

const orderAddress = (line1: string) => ({ name: 'Fern Example', line1, postalCode: '10115', city: 'Berlin', country: 'DE' });
/** A Berlin number no other test run holds (7 random digits after +4930). */
const berlinPhone = (): string => `+4930${String(randomBytes(4).readUInt32BE() % 10_000_000).padStart(7, '0')}`;
const yearsAgo = (years: number): string => `${new Date().getUTCFullYear() - years}-01-01`;

/**
 * R-DSR-1: any personal field a person gave us can be corrected through a rights request, through the module that
 * owns it, all fields of a request in one transaction, each correction recorded by field name only.
 */
describe.each(ENGINES)('corrections of every personal field on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    // One region with a threshold of its own (as in the R-KID-1 sign-up test): a corrected region must apply it.
    const file = policyFile((d) => {
      d.children.regions = { KR: 14 };
    });
    stack = await createStack(kind, { env: { PLEDGE_POLICY: file } });
  });
  afterAll(async () => stack.close());

  type Method = 'GET' | 'POST';
  const call = (method: Method, url: string, token?: string, payload?: unknown) =>
    stack.app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload === undefined ? {} : { payload: payload as object }) });
  const rectify = (token: string, corrections: Record<string, unknown>) => call('POST', '/v1/me/requests', token, { type: 'rectify', corrections });
  const data = async (token: string) => (await call('GET', '/v1/me/data', token)).json() as Record<string, any>;
  const db = () => stack.services.engine.db;
  const correctionsOf = async (subjectId: string) => (await db().selectFrom('rights_corrections').select('field').where('subject_id', '=', subjectId).execute()).map((r) => r.field).sort();
  const auditText = async (subjectIds: readonly string[]) => JSON.stringify(await db().selectFrom('audit_log').select(['action', 'details', 'target']).where('subject_id', 'in', subjectIds).execute());

  async function placeOrder(token: string): Promise<string> {
    const res = await call('POST', '/v1/me/orders', token, {
      currency: 'EUR', items: [{ sku: 'AP-4', title: 'Air purifier 4', quantity: 1, unitPriceCents: 19900 }],
      delivery: { address: orderAddress('3 Parcel Row'), phone: '+49 30 1234567' }, billingAddress: orderAddress('7 Invoice Lane'),
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  }
  async function shareContact(token: string, email: string): Promise<string> {
    const res = await call('POST', '/v1/me/contacts', token, { name: 'Gus Guest', email, phone: '+49 30 7654321', address: { line1: '9 Old Road', city: 'Berlin', country: 'DE' }, reason: 'share' });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  }

  it('R-DSR-1: an order\'s billing address and its not yet delivered delivery details are corrected with an account field in one request; each correction is recorded by field and order id, never the value', async () => {
    const p = await verifiedUser(stack);
    const orderId = await placeOrder(p.token);
    const street = `${randomUUID().slice(0, 8)} Corrected Street`;
    const corrections = {
      'accounts.name': 'Fern Corrected',
      [`orders.billing_address:${orderId}`]: orderAddress(`1 ${street}`),
      [`orders.delivery:${orderId}`]: { address: orderAddress(`2 ${street}`), phone: '+49 30 2222222', instructions: 'Leave with the neighbour' },
    };
    const res = await rectify(p.token, corrections);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().status).toBe('completed');
    const after = await data(p.token);
    expect(after.account.name).toBe('Fern Corrected');
    const [order] = after.orders as Record<string, any>[];
    expect(order!.billingAddress).toEqual(orderAddress(`1 ${street}`));
    expect(order!.delivery).toEqual({ address: orderAddress(`2 ${street}`), phone: '+49 30 2222222', instructions: 'Leave with the neighbour' });
    // The items and the card the invoice needs are untouched.
    expect(order!.items).toEqual([{ sku: 'AP-4', title: 'Air purifier 4', quantity: 1, unitPriceCents: 19900 }]);
    expect(await correctionsOf(p.id)).toEqual(Object.keys(corrections).sort());
    expect((after.corrections as { field: string }[]).map((c) => c.field).sort()).toEqual(Object.keys(corrections).sort());
    const rows = JSON.stringify(await db().selectFrom('rights_corrections').selectAll().where('subject_id', '=', p.id).execute());
    expect(rows).not.toContain(street);
    const audit = await auditText([p.id]);
    expect(audit).toContain('orders.corrected');
    expect(audit).not.toContain(street);
    expect(audit).not.toContain('Fern Corrected');
  });

  it('R-DSR-1: the delivery details of a delivered order are no longer corrected (ORDER_DELIVERED), and the billing address filed with them stays as it was; alone it is corrected', async () => {
    const p = await verifiedUser(stack);
    const orderId = await placeOrder(p.token);
    await stack.services.orders.setDeliveryStatus(systemContext('test'), orderId, 'delivered');
    const refused = await rectify(p.token, { [`orders.billing_address:${orderId}`]: orderAddress('5 New Invoice Way'), [`orders.delivery:${orderId}`]: { address: orderAddress('5 Too Late Lane') } });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().code).toBe('ORDER_DELIVERED');
    const [order] = (await data(p.token)).orders as Record<string, any>[];
    expect(order!.billingAddress).toEqual(orderAddress('7 Invoice Lane'));
    expect(order!.delivery.address).toEqual(orderAddress('3 Parcel Row'));
    expect(await correctionsOf(p.id)).toEqual([]);
    const [closed] = (await call('GET', '/v1/me/requests', p.token)).json() as Record<string, any>[];
    expect(closed).toMatchObject({ type: 'rectify', status: 'declined', decline: { reason: 'UNREALISTIC' } });
    const billing = await rectify(p.token, { [`orders.billing_address:${orderId}`]: orderAddress('5 New Invoice Way') });
    expect(billing.json().status).toBe('completed');
    expect(((await data(p.token)).orders as Record<string, any>[])[0]!.billingAddress).toEqual(orderAddress('5 New Invoice Way'));
  });

  it('R-DSR-1: a shared contact\'s name, e-mail, phone and address are corrected through the contacts module; the new e-mail is re-indexed, so the contact\'s own erasure request finds it by the new address and no longer by the old', async () => {
    const p = await verifiedUser(stack);
    const oldEmail = `gus.${randomUUID().slice(0, 8)}@example.org`;
    const newEmail = `gus.new.${randomUUID().slice(0, 8)}@example.org`;
    const contactId = await shareContact(p.token, oldEmail);
    const res = await rectify(p.token, {
      [`contacts.name:${contactId}`]: 'Gus Corrected',
      [`contacts.email:${contactId}`]: `  ${newEmail.toUpperCase()} `,
      [`contacts.phone:${contactId}`]: '+49 30 9999999',
      [`contacts.address:${contactId}`]: { line1: '10 New Road', postalCode: '10117', city: 'Berlin', country: 'DE' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().status).toBe('completed');
    const [contact] = (await call('GET', '/v1/me/contacts', p.token)).json().contacts as Record<string, unknown>[];
    // Normalised as sharing normalises: the e-mail trimmed and lower-cased, the phone in E.164.
    expect(contact).toMatchObject({ id: contactId, name: 'Gus Corrected', email: newEmail, phone: '+49309999999', address: { line1: '10 New Road', postalCode: '10117', city: 'Berlin', country: 'DE' } });
    const codesSent = async () => (await db().selectFrom('outbox').select('id').where('subject_id', '=', contactId).where('kind', '=', 'contact_erasure_code').execute()).length;
    expect((await call('POST', '/v1/contacts/erasure', undefined, { email: oldEmail })).statusCode).toBe(202);
    expect(await codesSent()).toBe(0);
    expect((await call('POST', '/v1/contacts/erasure', undefined, { email: newEmail })).statusCode).toBe(202);
    expect(await codesSent()).toBe(1);
    expect(await correctionsOf(p.id)).toEqual(['address', 'email', 'name', 'phone'].map((f) => `contacts.${f}:${contactId}`));
    const audit = await auditText([contactId]);
    expect(audit).toContain('contacts.corrected');
    expect(audit).not.toContain(newEmail);
  });

  it('R-DSR-4: a correction of another person\'s order or shared contact is declined OTHERS_PRIVACY and changes nothing; a record nobody holds is UNREALISTIC', async () => {
    const owner = await verifiedUser(stack);
    const orderId = await placeOrder(owner.token);
    const contactId = await shareContact(owner.token, `gus.${randomUUID().slice(0, 8)}@example.org`);
    const other = await verifiedUser(stack);
    for (const corrections of [{ [`orders.billing_address:${orderId}`]: orderAddress('6 Intruder Street') }, { [`contacts.name:${contactId}`]: 'Not Yours' }]) {
      const res = await rectify(other.token, corrections);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ status: 'declined', decline: { reason: 'OTHERS_PRIVACY' } });
    }
    // Mixed with a field of their own, the request is still declined as a whole.
    const mixed = await rectify(other.token, { 'accounts.name': 'Own Name', [`orders.delivery:${orderId}`]: { address: orderAddress('6 Intruder Street') } });
    expect(mixed.json()).toMatchObject({ status: 'declined', decline: { reason: 'OTHERS_PRIVACY' } });
    expect((await data(other.token)).account.name).not.toBe('Own Name');
    const [order] = (await data(owner.token)).orders as Record<string, any>[];
    expect(order!.billingAddress).toEqual(orderAddress('7 Invoice Lane'));
    expect(order!.delivery.address).toEqual(orderAddress('3 Parcel Row'));
    expect(((await call('GET', '/v1/me/contacts', owner.token)).json().contacts as { name: string }[])[0]!.name).toBe('Gus Guest');
    expect(await correctionsOf(other.id)).toEqual([]);
    const unknown = await rectify(other.token, { [`orders.billing_address:${randomUUID()}`]: orderAddress('6 Nowhere') });
    expect(unknown.json()).toMatchObject({ status: 'declined', decline: { reason: 'UNREALISTIC' } });
    // An order field without the order's id names nothing.
    expect((await rectify(other.token, { 'orders.billing_address': orderAddress('6 Nowhere') })).json()).toMatchObject({ status: 'declined', decline: { reason: 'UNREALISTIC' } });
  });

  it('R-DSR-1: every value is checked against its create route\'s shape before anything is applied, and all corrections commit together: a failure while writing the last one rolls back the account and order corrections written before it', async () => {
    const p = await verifiedUser(stack);
    const orderId = await placeOrder(p.token);
    const contactId = await shareContact(p.token, `gus.${randomUUID().slice(0, 8)}@example.org`);
    const before = await data(p.token);
    // Shapes: an order address without its postal code (placing an order needs one), a contact e-mail that is no address.
    const badShape = await rectify(p.token, { 'accounts.name': 'Fern Half', [`orders.billing_address:${orderId}`]: { name: 'F', line1: '1 A St', city: 'Berlin', country: 'DE' } });
    expect(badShape.statusCode, badShape.body).toBe(400);
    expect(badShape.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    const badEmail = await rectify(p.token, { 'accounts.name': 'Fern Half', [`contacts.email:${contactId}`]: 'not-an-address' });
    expect(badEmail.statusCode, badEmail.body).toBe(400);
    // Writing: the contact's key is gone by the time the transaction reaches it (its owner had it erased meanwhile).
    await stack.services.vault.shred(db(), systemContext('test'), contactId);
    const failed = await rectify(p.token, { 'accounts.name': 'Fern Half', [`orders.billing_address:${orderId}`]: orderAddress('8 Half Way'), [`contacts.name:${contactId}`]: 'Gus Half' });
    expect(failed.statusCode, failed.body).toBe(410);
    expect(failed.json().code).toBe('SUBJECT_ERASED');
    const after = await data(p.token);
    expect(after.account.name).toBe(before.account.name);
    expect(after.orders).toEqual(before.orders);
    expect(await correctionsOf(p.id)).toEqual([]);
    expect(await auditText([p.id])).not.toContain('orders.corrected');
  });

  it('R-DSR-1, R-SEC-4: a correction key that is not a field name (say, an e-mail address) is refused before anything is stored, so no value lands in the request record that outlives erasure', async () => {
    const p = await verifiedUser(stack);
    const secret = `ana.${randomUUID().slice(0, 8)}@example.org`;
    const res = await rectify(p.token, { [secret]: 'x' });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('UNKNOWN_FIELD');
    expect(res.body).not.toContain(secret);
    // A phone number where a record id or a part goes is refused the same way.
    for (const key of ['accounts.phone:4915112345678', 'accounts.postal_address.4915112345678']) {
      const phone = await rectify(p.token, { [key]: 'x' });
      expect(phone.statusCode, phone.body).toBe(400);
      expect(phone.body).not.toContain('4915112345678');
    }
    const erase = await call('POST', '/v1/me/requests', p.token, { type: 'erase_partial', target: { kind: 'contact', id: '+4915112345678' } });
    expect(erase.statusCode).toBe(400);
    expect(erase.body).not.toContain('4915112345678');
    const stored = await db().selectFrom('rights_requests').selectAll().where('subject_id', '=', p.id).execute();
    expect(stored).toEqual([]);
  });

  it('R-DSR-8: a correction cut off after its values were applied is completed by `rights run` (resume), not left open for ever', async () => {
    const p = await verifiedUser(stack);
    const { audit, rights } = stack.services;
    const append = audit.append.bind(audit);
    // A crash between the corrections' commit and the completion: the completion's transaction fails.
    audit.append = (async (trx: any, ctx: any, entry: any) => {
      if (entry.action === 'rights.request_completed') throw new Error('power cut');
      return append(trx, ctx, entry);
    }) as typeof audit.append;
    try {
      const cut = await rectify(p.token, { 'accounts.name': 'Ida Resumed' });
      expect(cut.statusCode).toBe(500);
    } finally {
      audit.append = append;
    }
    const [open] = await rights.requests.list(p.id);
    expect(open).toMatchObject({ type: 'rectify', status: 'in_progress' });
    expect(await rights.requests.unfinished()).toContain(open!.id);
    const done = await rights.requests.resume(systemContext('test'), open!.id);
    expect(done.status).toBe('completed');
    expect((await data(p.token)).account.name).toBe('Ida Resumed');
    expect(await rights.requests.unfinished()).not.toContain(open!.id);
  });

  it('R-DSR-8: a correction whose runner lost its claim applies nothing and stays open; resume then declines it (nothing was recorded), and the values stay as they were', async () => {
    const p = await verifiedUser(stack);
    const { doer, requests } = stack.services.rights;
    const before = (await data(p.token)).account.name;
    const run = doer.run.bind(doer);
    // The runner finds the request taken over (a stall past its claim): the claim check throws before anything is written.
    doer.run = (async (ctx: any, request: any, corrections: any) => run(ctx, request, corrections, 'a-holder-that-is-not-the-claim')) as typeof doer.run;
    try {
      const lost = await rectify(p.token, { 'accounts.name': 'Nora Never' });
      expect(lost.statusCode, lost.body).toBe(409);
      expect(lost.json().code).toBe('REQUEST_BUSY');
    } finally {
      doer.run = run;
    }
    const [open] = await requests.list(p.id);
    expect(open).toMatchObject({ type: 'rectify', status: 'in_progress' });
    expect(await correctionsOf(p.id)).toEqual([]);
    const closed = await requests.resume(systemContext('test'), open!.id);
    expect(closed).toMatchObject({ status: 'declined', declineReason: 'UNREALISTIC' });
    expect((await data(p.token)).account.name).toBe(before);
  });

  it('R-DSR-1: a phone correction re-indexes the phone: sign-in by the new number works, by the old one fails, and the area code follows', async () => {
    const p = await verifiedUser(stack);
    const newPhone = berlinPhone();
    const res = await rectify(p.token, { 'accounts.phone': newPhone });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().status).toBe('completed');
    const account = (await data(p.token)).account;
    expect(account).toMatchObject({ phone: newPhone, areaCode: '+49 30' });
    expect((await call('POST', '/v1/sessions', undefined, { login: newPhone, password: p.p.password })).statusCode).toBe(201);
    const old = await call('POST', '/v1/sessions', undefined, { login: p.p.phone, password: p.p.password });
    expect(old.statusCode, old.body).toBe(401);
    expect(await correctionsOf(p.id)).toEqual(['accounts.phone']);
  });

  it('R-KID-1: a corrected birth date decides the child flag again: under the threshold the account is a child\'s (decision engine included, audited), and a correction back lifts it', async () => {
    const p = await verifiedUser(stack, { region: 'DE', birthDate: '1984-07-19' });
    const decide = () => stack.services.consent.decisions.decide({ subjectId: p.id, purpose: 'user_experience_program', category: 'user.telemetry' });
    expect((await decide()).reason).toBe('CONSENT_MISSING');
    const child = await rectify(p.token, { 'accounts.birth_date': yearsAgo(10) });
    expect(child.json().status).toBe('completed');
    expect((await data(p.token)).account).toMatchObject({ birthDate: yearsAgo(10), isChild: true });
    expect((await call('GET', '/v1/me', p.token)).json().child).toBe(true);
    expect(await decide()).toMatchObject({ allow: false, reason: 'SUBJECT_IS_CHILD' });
    const marks = async () =>
      (await db().selectFrom('audit_log').select(['action', 'details']).where('subject_id', '=', p.id).where('action', 'in', ['subject.child_marked', 'account.updated']).orderBy('seq').execute())
        .map((a) => {
          // The request id differs per call; the rest is what the entry says.
          const { requestId: _, ...details } = JSON.parse(a.details) as Record<string, unknown>;
          return [a.action, details];
        });
    expect(await marks()).toEqual([['subject.child_marked', { isChild: true }], ['account.updated', { fields: ['birth_date'], child: true }]]);
    expect(await rectify(p.token, { 'accounts.birth_date': '1984-07-19' })).toMatchObject({ statusCode: 201 });
    expect((await data(p.token)).account.isChild).toBe(false);
    expect((await decide()).reason).toBe('CONSENT_MISSING');
    expect((await marks()).slice(2)).toEqual([['subject.child_marked', { isChild: false }], ['account.updated', { fields: ['birth_date'], child: false }]]);
    // A date that is no calendar date is refused as at sign-up, and nothing changes.
    const bad = await rectify(p.token, { 'accounts.birth_date': '2010-02-30' });
    expect(bad.json().code).toBe('BIRTH_DATE_INVALID');
    expect((await data(p.token)).account.birthDate).toBe('1984-07-19');
  });

  it('R-KID-1: a corrected region applies that region\'s threshold from the policy: a 13-year-old becomes a child in a region whose threshold is 14, and not again when the region is corrected back', async () => {
    const p = await verifiedUser(stack, { region: 'DE', birthDate: yearsAgo(13) });
    expect((await data(p.token)).account.isChild).toBe(false);
    expect((await rectify(p.token, { 'accounts.region': 'kr' })).json().status).toBe('completed');
    expect((await data(p.token)).account).toMatchObject({ region: 'KR', isChild: true });
    expect((await rectify(p.token, { 'accounts.region': 'DE' })).json().status).toBe('completed');
    expect((await data(p.token)).account).toMatchObject({ region: 'DE', isChild: false });
    expect((await rectify(p.token, { 'accounts.region': 'XX' })).statusCode).toBe(400);
    expect(await correctionsOf(p.id)).toEqual(['accounts.region', 'accounts.region']);
  });
});
