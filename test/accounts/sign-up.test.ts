import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '@node-rs/argon2';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { bearer, newUser, person, signUp } from '../support/people.js';

describe.each(ENGINES)('accounts: sign-up and profile on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  it('R-ACC-1: sign-up answers 201 { id }, normalises e-mail and phone, and GET /v1/me returns the profile', async () => {
    const p = person({ phone: '030 1234 5678' });
    const res = await stack.app.inject({ method: 'POST', url: '/v1/accounts', payload: p });
    expect(res.statusCode).toBe(201);
    expect(Object.keys(res.json())).toEqual(['id']);
    const token = (await stack.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: p.email.toUpperCase(), password: p.password } })).json().token;
    const me = await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      id: res.json().id,
      name: p.name,
      email: p.email.toLowerCase(),
      birthDate: '1984-07-19',
      region: 'DE',
      language: 'de-DE',
      timeZone: 'Europe/Berlin',
      zip: '10115',
      areaCode: '+49 30',
      locationPrecision: 'city',
      child: false,
    });
    expect(me.json().phone).toMatch(/^\+4930\d+$/);
    expect(me.json()).not.toHaveProperty('password');
  });

  it('R-TEL-1, R-CLS-2: language, ZIP, area code and time zone are stored encrypted because they are joined to a person', async () => {
    const { id } = await newUser(stack);
    const row = await stack.services.engine.db.selectFrom('accounts').selectAll().where('subject_id', '=', id).executeTakeFirstOrThrow();
    for (const field of ['language', 'zip', 'area_code', 'time_zone', 'name', 'email', 'phone', 'postal_address', 'birth_date', 'password_hash', 'region', 'location_precision'] as const) {
      const value = row[field];
      expect(Buffer.isBuffer(value), field).toBe(true);
      const text = (value as Buffer).toString('latin1');
      expect(text).not.toContain('de-DE');
      expect(text).not.toContain('10115');
      expect(text).not.toContain('Europe/Berlin');
      expect(text).not.toContain('+49');
    }
    // Ciphertexts are bound to their field: the language ciphertext does not open as the time zone (R-SEC-4).
    await expect(stack.services.vault.decrypt(stack.services.engine.db, id, 'accounts', 'time_zone', row.language, 'provide_service')).rejects.toThrow();
  });

  it('R-SEC-4: the stored password hash is argon2id with m = 19456 KiB, t = 2, p = 1 and a random salt, also after a password change', async () => {
    const { engine, vault } = stack.services;
    /** The stored hash, opened the way sign-in opens it (vault, purpose verify_identity), split into its PHC fields. */
    const storedHash = async (id: string) => {
      const row = await engine.db.selectFrom('accounts').select('password_hash').where('subject_id', '=', id).executeTakeFirstOrThrow();
      const phc = await vault.decrypt(engine.db, id, 'accounts', 'password_hash', row.password_hash, 'verify_identity');
      const m = /^\$(argon2(?:id|i|d))\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
      expect(m, 'a PHC string').not.toBeNull();
      const [, algorithm, version, memoryKiB, iterations, lanes, salt, hash] = m!;
      return { phc, params: { algorithm, version, memoryKiB: Number(memoryKiB), iterations: Number(iterations), lanes: Number(lanes) }, salt: Buffer.from(salt!, 'base64'), hash: Buffer.from(hash!, 'base64') };
    };
    const owasp = { algorithm: 'argon2id', version: '19', memoryKiB: 19_456, iterations: 2, lanes: 1 };

    const samePassword = 'one passphrase for two people';
    const first = await newUser(stack, { password: samePassword });
    const second = await newUser(stack, { password: samePassword });
    const [h1, h2] = [await storedHash(first.id), await storedHash(second.id)];
    for (const h of [h1, h2]) {
      expect(h.params).toEqual(owasp);
      expect(h.salt.length).toBeGreaterThanOrEqual(16);
      expect(h.hash).toHaveLength(32);
      expect(await verify(h.phc, samePassword)).toBe(true);
    }
    // Random salts: the same password never gives the same stored hash.
    expect(h1.salt.equals(h2.salt)).toBe(false);
    expect(h1.hash.equals(h2.hash)).toBe(false);

    const changed = await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: first.auth, payload: { currentPassword: samePassword, newPassword: 'another long passphrase' } });
    expect(changed.statusCode, changed.body).toBe(200);
    const h3 = await storedHash(first.id);
    expect(h3.params).toEqual(owasp);
    expect(await verify(h3.phc, 'another long passphrase')).toBe(true);
  });

  it('R-ACC-1: a duplicate e-mail (any case) or phone answers 409 ACCOUNT_EXISTS and writes nothing', async () => {
    const p = person();
    await signUp(stack, p);
    const count = async () => Number((await stack.services.engine.db.selectFrom('accounts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const audited = async () => Number((await stack.services.engine.db.selectFrom('audit_log').select((eb) => eb.fn.countAll().as('n')).where('action', '=', 'account.created').executeTakeFirstOrThrow()).n);
    // The vault's subject key is written in the same transaction: a refused sign-up leaves no orphan key.
    const keys = async () => [...(await stack.services.vault.keyStore.countByVersion(stack.services.engine.db)).values()].reduce((a, b) => a + b, 0);
    const subjects = async () => [await audited(), await keys()];
    const before = [await count(), await subjects()];
    const sameEmail = await stack.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...person(), email: `  ${p.email.toUpperCase()} ` } });
    expect(sameEmail.statusCode).toBe(409);
    expect(sameEmail.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(sameEmail.json().code).toBe('ACCOUNT_EXISTS');
    const samePhone = await stack.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...person(), phone: p.phone } });
    expect(samePhone.json().code).toBe('ACCOUNT_EXISTS');
    expect([await count(), await subjects()]).toEqual(before);
  });

  it('R-KID-1: a birth date under the policy threshold for the region marks the account a child at sign-up', async () => {
    const today = new Date();
    const twelve = `${today.getUTCFullYear() - 12}-01-01`;
    const { id, token } = await newUser(stack, { birthDate: twelve });
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).json().child).toBe(true);
    const status = await stack.services.consent.subjectStatus.get(stack.services.engine.db, id);
    expect(status.isChild).toBe(true);
    const adult = await newUser(stack, { birthDate: `${today.getUTCFullYear() - 14}-01-01` });
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(adult.token) })).json().child).toBe(false);
  });

  it('R-CHO-3, R-TEL-1: PATCH /v1/me changes settings and address (ZIP follows), audited with field names only', async () => {
    const { id, token } = await newUser(stack);
    const res = await stack.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: bearer(token),
      payload: { locationPrecision: 'region', language: 'zh-cn', timeZone: 'Asia/Shanghai', postalAddress: { line1: 'Hauptstrasse 1', city: 'Hamburg', postalCode: '20095', country: 'de' } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ locationPrecision: 'region', language: 'zh-CN', timeZone: 'Asia/Shanghai', zip: '20095', postalAddress: { city: 'Hamburg', country: 'DE' } });
    expect(await stack.services.accounts.accounts.locationPrecision(stack.services.engine.db, id)).toBe('region');
    const entry = await stack.services.engine.db.selectFrom('audit_log').selectAll().where('subject_id', '=', id).where('action', '=', 'account.updated').executeTakeFirstOrThrow();
    expect(JSON.parse(entry.details).fields).toEqual(['postal_address', 'zip', 'language', 'time_zone', 'location_precision']);
    expect(entry.details).not.toContain('Hamburg');
    expect(entry.details).not.toContain('20095');
    const bad = await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(token), payload: { locationPrecision: 'street' } });
    expect(bad.json().code).toBe('VALIDATION_FAILED');
    const empty = await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(token), payload: {} });
    expect(empty.statusCode).toBe(400);
  });

  it('R-ACC-1: a PATCH that would duplicate another account\'s e-mail answers 409 and changes nothing, not even the other fields', async () => {
    const other = await newUser(stack);
    const { p, token } = await newUser(stack);
    await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { password: p.password } });
    const res = await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(token), payload: { name: 'Half Written', email: other.p.email } });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('ACCOUNT_EXISTS');
    const me = (await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).json();
    expect({ name: me.name, email: me.email }).toEqual({ name: p.name, email: p.email.toLowerCase() });
  });

  const bad: [string, Record<string, unknown>, number, string][] = [
    ['bad e-mail', { email: 'not-an-address' }, 400, 'EMAIL_INVALID'],
    ['bad phone', { phone: '+49 12' }, 400, 'PHONE_INVALID'],
    ['short password', { password: 'short pw' }, 400, 'PASSWORD_TOO_SHORT'],
    ['future birth date', { birthDate: '2999-01-01' }, 400, 'BIRTH_DATE_INVALID'],
    ['impossible birth date', { birthDate: '2001-02-30' }, 400, 'BIRTH_DATE_INVALID'],
    ['unknown field', { favouriteColour: 'teal' }, 400, 'UNKNOWN_FIELD'],
    ['unknown address field', { postalAddress: { line1: 'x', city: 'y', country: 'DE', planet: 'Mars' } }, 400, 'UNKNOWN_FIELD'],
    ['wrong type', { name: 42 }, 400, 'VALIDATION_FAILED'],
    ['oversize name', { name: 'x'.repeat(201) }, 400, 'VALIDATION_FAILED'],
    ['unknown region', { region: 'XX' }, 400, 'VALIDATION_FAILED'],
    ['bad time zone', { timeZone: 'Mars/Olympus' }, 400, 'VALIDATION_FAILED'],
    ['bad language', { language: '123 456' }, 400, 'VALIDATION_FAILED'],
  ];
  it.each(bad)('R-ACC-1: %s → 4xx problem+json with a code, nothing written', async (_label, change, status, code) => {
    const p = person(change);
    const res = await stack.app.inject({ method: 'POST', url: '/v1/accounts', payload: p });
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json().code).toBe(code);
    const login = await stack.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: String(p.email), password: String(p.password) } });
    expect(login.statusCode).toBe(401);
  });
});
