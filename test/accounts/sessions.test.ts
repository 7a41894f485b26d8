import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { bearer, newUser, person, signIn, signUp } from '../support/people.js';

describe.each(ENGINES)('accounts: sessions and sign-in throttling on %s', (kind) => {
  let stack: TestStack;
  let now: number;
  const signInRaw = (login: string, password: string, ip = '198.51.100.1') =>
    stack.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password }, remoteAddress: ip });
  const me = (token: string) => stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) });

  beforeAll(async () => {
    stack = await createStack(kind);
    now = Date.now();
    // The throttle's clock drives sign-in, expiry and locks; moving it replaces sleeping.
    stack.services.accounts.sessions.throttle.clock = () => now;
  });
  afterAll(async () => stack.close());

  it('R-SEC-4: sign-in by e-mail or E.164 phone gives a 256-bit bearer token of which only the SHA-256 is stored', async () => {
    const p = person();
    const id = await signUp(stack, p);
    const res = await signInRaw(p.email, p.password);
    expect(res.statusCode).toBe(201);
    const { token, expiresAt } = res.json();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(Date.parse(expiresAt) - now).toBe(12 * 3600_000);
    const rows = await stack.services.engine.db.selectFrom('sessions').selectAll().where('subject_id', '=', id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect((await me(token)).json().id).toBe(id);
    expect((await signInRaw(p.phone, p.password)).statusCode).toBe(201);
  });

  it('R-SEC-4: unknown login, malformed login and wrong password get the same answer (no user enumeration)', async () => {
    const p = person();
    await signUp(stack, p);
    const answers = await Promise.all([signInRaw(p.email, 'wrong password 123'), signInRaw('nobody-here@example.org', 'wrong password 123'), signInRaw('no login at all', 'wrong password 123')]);
    for (const a of answers) {
      expect(a.statusCode).toBe(401);
      expect(a.headers['content-type']).toMatch(/application\/problem\+json/);
      expect({ code: a.json().code, detail: a.json().detail }).toEqual({ code: 'INVALID_CREDENTIALS', detail: answers[0]!.json().detail });
    }
  });

  it('R-SEC-4: an expired, unknown or signed-out token answers 401 UNAUTHENTICATED', async () => {
    const { token } = await newUser(stack);
    expect((await me(token)).statusCode).toBe(200);
    now += 12 * 3600_000 + 1;
    const expired = await me(token);
    expect(expired.statusCode).toBe(401);
    expect(expired.json().code).toBe('UNAUTHENTICATED');
    const other = await newUser(stack);
    expect((await stack.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: bearer(other.token) })).statusCode).toBe(204);
    expect((await me(other.token)).statusCode).toBe(401);
    expect((await me('A'.repeat(43))).json().code).toBe('UNAUTHENTICATED');
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me' })).json().code).toBe('UNAUTHENTICATED');
  });

  it('R-SEC-4: a password change needs the current password and signs out every other session', async () => {
    const { p, token } = await newUser(stack);
    const second = await signIn(stack, p.email, p.password);
    const wrong = await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(token), payload: { currentPassword: 'not my password', newPassword: 'a brand new passphrase' } });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().code).toBe('VERIFICATION_FAILED');
    const short = await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(token), payload: { currentPassword: p.password, newPassword: 'tiny' } });
    expect(short.json().code).toBe('PASSWORD_TOO_SHORT');
    const ok = await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(token), payload: { currentPassword: p.password, newPassword: 'a brand new passphrase' } });
    expect(ok.statusCode).toBe(200);
    expect((await me(token)).statusCode).toBe(200);
    expect((await me(second)).statusCode).toBe(401);
    expect((await signInRaw(p.email, p.password)).statusCode).toBe(401);
    expect((await signInRaw(p.email, 'a brand new passphrase')).statusCode).toBe(201);
  });

  it('R-SEC-4: repeated failures slow sign-in down (429), then lock it for 15 minutes (423), the same for unknown logins', async () => {
    for (const known of [true, false]) {
      const p = person();
      if (known) await signUp(stack, p);
      const codes: string[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await signInRaw(p.email, 'wrong password 123', `192.0.2.${i + 1}`);
        codes.push(r.json().code);
        if (i === 5) {
          // The 6th failure arrives too soon: refused before the password is even checked, the right one too.
          const early = await signInRaw(p.email, p.password, '192.0.2.200');
          expect(early.statusCode).toBe(429);
          expect(early.json().code).toBe('SIGN_IN_THROTTLED');
          expect(early.json().details.retryAfterSeconds).toBeGreaterThan(0);
          expect(early.headers['retry-after']).toBe(String(early.json().details.retryAfterSeconds));
        }
        now += 60_000;
      }
      expect(codes).toEqual(Array(10).fill('INVALID_CREDENTIALS'));
      const locked = await signInRaw(p.email, p.password, '192.0.2.201');
      expect(locked.statusCode).toBe(423);
      expect(locked.json().code).toBe('SIGN_IN_LOCKED');
      expect(locked.headers['retry-after']).toBe('840'); // 15 min from the 10th failure, asked 60 s later
      now += 15 * 60_000;
      expect((await signInRaw(p.email, p.password, '192.0.2.202')).statusCode).toBe(known ? 201 : 401);
    }
  });

  it('R-SEC-4: many failures from one IP lock that IP, whatever the logins; other addresses still sign in', async () => {
    const p = person();
    await signUp(stack, p);
    let status = 0;
    for (let i = 0; i < 80 && status !== 423; i++) {
      const r = await signInRaw(`guess${i}@example.org`, 'wrong password 123', '203.0.113.66');
      status = r.statusCode;
      if (process.env.DEBUG_T) console.log(i, status, r.json().code, r.json().details);
      if (status === 429) now += r.json().details.retryAfterSeconds * 1000;
    }
    expect(status).toBe(423);
    expect((await signInRaw(p.email, p.password, '203.0.113.66')).json().code).toBe('SIGN_IN_LOCKED');
    expect((await signInRaw(p.email, p.password, '203.0.113.67')).statusCode).toBe(201);
  });
});
