import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { normaliseIp } from '../../src/modules/vault/blind-index.js';
import { person, signUp } from '../support/people.js';

describe('the throttle key of a client address', () => {
  it('R-SEC-4: IPv4 (also IPv4-mapped) as is; IPv6 by its /64, so stepping through one subscriber prefix does not reset the count', () => {
    expect(normaliseIp('192.0.2.7')).toBe('192.0.2.7');
    expect(normaliseIp('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(normaliseIp('2001:DB8:0:0::1')).toBe(normaliseIp('2001:db8::ffff:1:2:3'));
    expect(normaliseIp('2001:db8:0:1::1')).not.toBe(normaliseIp('2001:db8:0:2::1'));
    expect(normaliseIp('fe80::1%eth0')).toBe(normaliseIp('fe80::2'));
  });
});

describe.each(ENGINES)('sign-in throttle per IP shared through the store on %s', (kind) => {
  let first: TestStack;
  let second: TestStack;
  let now: number;
  const ip = '203.0.113.77';
  const signIn = (stack: TestStack, login: string, password: string, from = ip) =>
    stack.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password }, remoteAddress: from });

  /** Another server process on the same store: same data directory (key file), same database. */
  const sameStore = (owner: TestStack) => createStack(kind, { dataDir: owner.config.dataDir, ...(owner.schema ? { schema: owner.schema } : {}) });

  beforeAll(async () => {
    second = await createStack(kind);
    first = await sameStore(second);
    now = Date.now();
    for (const s of [first, second]) s.services.accounts.sessions.throttle.clock = () => now;
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  it('R-SEC-4: failures from one IP through one instance lock sign-in from that IP on another instance; the IP is stored only as a keyed hash', async () => {
    const p = person();
    await signUp(first, p);
    let status = 0;
    for (let i = 0; i < 80 && status !== 423; i++) {
      const r = await signIn(first, `guess${i}.${kind}@example.org`, 'wrong password 123');
      status = r.statusCode;
      if (status === 429) now += r.json().details.retryAfterSeconds * 1000;
    }
    expect(status).toBe(423);
    const locked = await signIn(second, p.email, p.password);
    expect(locked.statusCode).toBe(423);
    expect(locked.json().code).toBe('SIGN_IN_LOCKED');
    expect((await signIn(second, p.email, p.password, '203.0.113.78')).statusCode).toBe(201);

    const rows = await second.services.engine.db.selectFrom('sign_in_throttle').selectAll().where('key', 'like', 'ip:%').execute();
    const keys = rows.map((r) => r.key);
    expect(keys).toContain(`ip:${second.services.vault.blindIndex('ip', ip)}`);
    // Keyed: neither the address nor an unkeyed hash of it (which anyone could reverse over the IPv4 space).
    expect(JSON.stringify(rows)).not.toContain(ip);
    expect(keys).not.toContain(`ip:${createHash('sha256').update(ip).digest('hex')}`);
  });

  it('R-SEC-4: the lock survives a restart of the instance that counted it, and the sweep removes it once it has run out', async () => {
    const p = person();
    await signUp(second, p);
    await first.close();
    first = await sameStore(second);
    first.services.accounts.sessions.throttle.clock = () => now;
    expect((await signIn(first, p.email, p.password)).json().code).toBe('SIGN_IN_LOCKED');
    now += 15 * 60_000 + 1000;
    expect(await first.services.accounts.sessions.throttle.sweep()).toBeGreaterThanOrEqual(1);
    const key = `ip:${first.services.vault.blindIndex('ip', ip)}`;
    expect(await first.services.engine.db.selectFrom('sign_in_throttle').select('key').where('key', '=', key).executeTakeFirst()).toBeUndefined();
    expect((await signIn(second, p.email, p.password)).statusCode).toBe(201);
  });

  it('R-SEC-4: failures from one IP first slow sign-in down (429, doubling waits, the right password refused too), and only then lock it (423)', async () => {
    const from = '203.0.113.90';
    const p = person();
    await signUp(first, p);
    const answers: string[] = [];
    const waits: number[] = [];
    // Every guess names another login, so only the per-IP count can slow these down.
    for (let i = 0; i < 60 && !answers.includes('SIGN_IN_LOCKED'); i++) {
      const r = await signIn(first, `ip-guess${i}.${kind}@example.org`, 'wrong password 123', from);
      answers.push(r.json().code);
      if (r.statusCode === 429) {
        expect(r.headers['retry-after']).toBe(String(r.json().details.retryAfterSeconds));
        waits.push(r.json().details.retryAfterSeconds);
        if (waits.length === 1) {
          // Refused before the password is looked at: the account's own password does not get through either.
          expect((await signIn(second, p.email, p.password, from)).json().code).toBe('SIGN_IN_THROTTLED');
        }
        now += r.json().details.retryAfterSeconds * 1000;
      }
    }
    const firstSlow = answers.indexOf('SIGN_IN_THROTTLED');
    // 20 failures pass as plain wrong passwords; the 21st attempt, arriving at once, is slowed down, not locked.
    expect(answers.slice(0, firstSlow)).toEqual(Array(20).fill('INVALID_CREDENTIALS'));
    expect(answers.indexOf('SIGN_IN_LOCKED')).toBeGreaterThan(firstSlow);
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
    expect(answers.at(-1)).toBe('SIGN_IN_LOCKED');
    expect(answers.filter((c) => c === 'INVALID_CREDENTIALS')).toHaveLength(30);
    const locked = await signIn(second, p.email, p.password, from);
    expect(locked.statusCode).toBe(423);
    expect(locked.headers['retry-after']).toBe('900');
    expect((await signIn(second, p.email, p.password, '203.0.113.91')).statusCode).toBe(201);
  });
});
