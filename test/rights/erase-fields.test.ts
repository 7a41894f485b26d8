import type { TSchema } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { person as newPerson, verifiedUser } from '../support/people.js';
import { SignUpBody } from '../../src/modules/accounts/account.input.js';
import { ERASABLE_ACCOUNT_PARTS } from '../../src/modules/accounts/profile-updater.js';

/** Every property sign-up does not require, as `key` or `key.subkey`, read from the schema itself. */
function optionalPaths(schema: TSchema, prefix = ''): string[] {
  const props = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  const required = new Set((schema as { required?: string[] }).required ?? []);
  return Object.entries(props).flatMap(([k, s]) => (required.has(k) ? optionalPaths(s, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

describe('what may be erased on its own', () => {
  it('R-DSR-2: the account parts a person may erase on their own are exactly what sign-up does not require (read from its schema)', () => {
    expect([...ERASABLE_ACCOUNT_PARTS].sort()).toEqual(optionalPaths(SignUpBody).sort());
    expect([...ERASABLE_ACCOUNT_PARTS].sort()).toEqual(['postalAddress.line2', 'postalAddress.postalCode', 'postalAddress.region']);
  });
});

/** R-DSR-2 (part): optional fields of the account, erased on their own through the accounts module. */
describe.each(ENGINES)('erasure of optional account fields on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  const call = (method: 'GET' | 'POST', url: string, token?: string, payload?: unknown) =>
    stack.app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload === undefined ? {} : { payload: payload as object }) });
  const erase = (token: string, fields: unknown) => call('POST', '/v1/me/requests', token, { type: 'erase_partial', fields });
  const account = async (token: string) => (await call('GET', '/v1/me/data', token)).json().account as Record<string, any>;
  const db = () => stack.services.engine.db;
  const fullAddress = (tag: string) => ({ line1: `Wunderweg ${tag} 7`, line2: `Hinterhaus ${tag}`, city: 'Berlin', postalCode: '10115', region: `Mitte ${tag}`, country: 'DE' });

  it('R-DSR-2: the address\'s second line and postal code are erased on their own: absent from GET /v1/me/data with the ZIP kept from the code, the rest kept, audited by field name only', async () => {
    const tag = Math.random().toString(36).slice(2, 10);
    const p = await verifiedUser(stack, { postalAddress: fullAddress(tag) });
    expect((await account(p.token)).postalAddress).toEqual(fullAddress(tag));
    const res = await erase(p.token, ['accounts.postal_address.line2', 'accounts.postal_address.postalCode']);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().status).toBe('completed');
    const after = await account(p.token);
    expect(after.postalAddress).toEqual({ line1: `Wunderweg ${tag} 7`, city: 'Berlin', region: `Mitte ${tag}`, country: 'DE' });
    expect(after).toMatchObject({ zip: null, email: p.email.toLowerCase(), phone: p.p.phone, name: p.p.name });
    const audit = await db().selectFrom('audit_log').select(['action', 'details']).where('subject_id', '=', p.id).where('action', '=', 'account.parts_erased').execute();
    expect(audit.map((a) => JSON.parse(a.details).fields)).toEqual([['postalAddress.line2', 'postalAddress.postalCode']]);
    const all = JSON.stringify(await db().selectFrom('audit_log').select('details').where('subject_id', '=', p.id).execute());
    expect(all).not.toContain(`Hinterhaus ${tag}`);
    const [request] = await stack.services.rights.requests.list(p.id);
    expect(request!.params).toEqual({ fields: ['accounts.postal_address.line2', 'accounts.postal_address.postalCode'] });
    // The ZIP is the stored copy of the postal code: asking for it erases the code too; the address region goes on its own.
    const q = await verifiedUser(stack, { postalAddress: fullAddress(tag) });
    expect((await erase(q.token, ['accounts.zip', 'accounts.postal_address.region'])).json().status).toBe('completed');
    expect(await account(q.token)).toMatchObject({ zip: null, postalAddress: { line1: `Wunderweg ${tag} 7`, line2: `Hinterhaus ${tag}`, city: 'Berlin', country: 'DE' } });
    expect((await account(q.token)).postalAddress).not.toHaveProperty('postalCode');
  });

  it('R-DSR-2: a field sign-up requires (e-mail, phone, birth date, the address\'s first line) is refused FIELD_REQUIRED and stays, also beside an optional one; the phone keeps its blind index', async () => {
    const tag = Math.random().toString(36).slice(2, 10);
    const p = await verifiedUser(stack, { postalAddress: fullAddress(tag) });
    const before = await account(p.token);
    for (const fields of [['accounts.email'], ['accounts.phone'], ['accounts.birth_date'], ['accounts.postal_address.line1'], ['accounts.postal_address.line2', 'accounts.phone']]) {
      const res = await erase(p.token, fields);
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json()).toMatchObject({ code: 'FIELD_REQUIRED', details: { field: fields.at(-1) } });
    }
    expect(await account(p.token)).toEqual(before);
    expect(await stack.services.rights.requests.list(p.id)).toEqual([]);
    // The phone still signs in and is still taken.
    expect((await call('POST', '/v1/sessions', undefined, { login: p.p.phone, password: p.p.password })).statusCode).toBe(201);
    const again = await call('POST', '/v1/accounts', undefined, newPerson({ phone: p.p.phone }));
    expect(again.json().code).toBe('ACCOUNT_EXISTS');
  });

  it('R-DSR-2: a field erasure never writes an old address over a change that landed after it read the account: it erases from the new one, and a store that keeps changing gets 409 CONFLICT with nothing erased', async () => {
    const { vault } = stack.services;
    const original = vault.encryptFields.bind(vault);
    // A change lands between the erasure's read and its write (`times` times): simulated in the erasure's own
    // transaction, so it runs on either engine without a second connection.
    const changesLanding = (times: number) => {
      let left = times;
      vault.encryptFields = (async (trx: any, subjectId: string, table: string, values: any) => {
        if (table === 'accounts' && 'postal_address' in values && left-- > 0) await trx.updateTable('accounts').set({ updated_at: new Date(Date.now() + 1000 + left).toISOString() }).where('subject_id', '=', subjectId).execute();
        return original(trx, subjectId, table, values);
      }) as typeof vault.encryptFields;
    };
    const partsErased = async (id: string) => (await db().selectFrom('audit_log').select('action').where('subject_id', '=', id).where('action', '=', 'account.parts_erased').execute()).length;
    try {
      const once = await verifiedUser(stack, { postalAddress: fullAddress('a') });
      changesLanding(1);
      const retried = await erase(once.token, ['accounts.postal_address.line2']);
      expect(retried.statusCode, retried.body).toBe(201);
      const { line2: _gone, ...rest } = fullAddress('a');
      expect((await account(once.token)).postalAddress).toEqual(rest);
      expect(await partsErased(once.id)).toBe(1);

      const always = await verifiedUser(stack, { postalAddress: fullAddress('b') });
      changesLanding(10);
      const res = await erase(always.token, ['accounts.postal_address.line2']);
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().code).toBe('CONFLICT');
      expect((await account(always.token)).postalAddress).toEqual(fullAddress('b'));
      expect(await partsErased(always.id)).toBe(0);
    } finally {
      vault.encryptFields = original;
    }
  });

  it('R-DSR-2: a field we do not hold is declined UNREALISTIC; fields go with erase_partial only and never beside a target', async () => {
    const p = await verifiedUser(stack);
    for (const fields of [['accounts.favourite_colour'], ['accounts.postal_address.floor'], ['orders.billing_address']]) {
      const res = await erase(p.token, fields);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ status: 'declined', decline: { reason: 'UNREALISTIC' } });
    }
    expect((await erase(p.token, [])).statusCode).toBe(400);
    expect((await erase(p.token, ['Accounts.Phone'])).statusCode).toBe(400);
    const withTarget = await call('POST', '/v1/me/requests', p.token, { type: 'erase_partial', fields: ['accounts.postal_address.line2'], target: { kind: 'device', id: 'x' } });
    expect(withTarget.statusCode).toBe(400);
    const withRectify = await call('POST', '/v1/me/requests', p.token, { type: 'rectify', fields: ['accounts.postal_address.line2'] });
    expect(withRectify.statusCode).toBe(400);
  });
});
