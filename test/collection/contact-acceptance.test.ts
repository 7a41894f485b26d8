import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { startMailPeer } from '../accounts/mail-peer.js';
import { person, signIn, signUp } from '../support/people.js';
import { systemContext } from '../../src/internal/context.js';
import { expectProblem, leaks, signUpUser, type User } from './support.js';

const DAY = 86_400_000;

describe.each(ENGINES)('accepting an invitation on %s', (kind) => {
  let stack: TestStack;
  let peer: Awaited<ReturnType<typeof startMailPeer>>;
  let ana: User;
  let n = 0;
  const share = (u: User, payload: Record<string, unknown>) => stack.app.inject({ method: 'POST', url: '/v1/me/contacts', headers: u.auth, payload });
  const accept = (auth: Record<string, string>, code: string, ip = '198.51.100.20') => stack.app.inject({ method: 'POST', url: '/v1/contacts/accept', headers: auth, payload: { code }, remoteAddress: ip });
  /** Ana shares with a fresh address; the code is read from the message the real SMTP peer received. */
  const invite = async (reason = 'invite') => {
    const email = `invitee.${++n}.${kind}@invitee.example`;
    const res = await share(ana, { name: `Invitee Nummer${n}`, email, reason });
    expect(res.statusCode, res.body).toBe(201);
    const raw = (await peer.waitFor(email)).raw;
    const code = /invitation code:\s+([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})/.exec(raw)?.[1];
    expect(code, raw).toBeDefined();
    return { contact: res.json(), email, code: code!, raw };
  };
  const contactsOf = async (u: User) => (await stack.app.inject({ method: 'GET', url: '/v1/me/contacts', headers: u.auth })).json().contacts as { id: string; status: string; acceptedAt: string | null; expiresAt: string | null }[];

  beforeAll(async () => {
    peer = await startMailPeer();
    stack = await createStack(kind, { env: { SMTP_URL: peer.url } });
    ana = await signUpUser(stack);
  });
  afterAll(async () => {
    await stack?.close();
    await peer?.close();
  });

  it('R-ACC-3: the invitee gets a one-time code by e-mail, signs up and accepts; the contact no longer expires, is linked to the account, and the sharer sees it accepted', async () => {
    const { contact, email, code, raw } = await invite();
    expect(contact.status).toBe('pending');
    // The code is typed in: no link carries it (a query string would land in access logs).
    expect(raw).not.toMatch(/https?:\/\/\S*[?&]\S*code/i);
    const p = person({ email });
    const accountId = await signUp(stack, p);
    const auth = { authorization: `Bearer ${await signIn(stack, p.email, p.password)}` };
    // Typed loosely: lower case, no dashes.
    const res = await accept(auth, code.toLowerCase().replace(/-/g, ''));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: contact.id, reason: 'invite' });
    const seen = (await contactsOf(ana)).find((c) => c.id === contact.id);
    expect(seen).toMatchObject({ status: 'accepted', acceptedAt: res.json().acceptedAt, expiresAt: null });
    const row = await stack.services.engine.db.selectFrom('contacts').selectAll().where('subject_id', '=', contact.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'accepted', accepted_by_subject_id: accountId, accept_code_hash: null });
    // Past the contact retention the sweep leaves an accepted contact alone.
    await stack.services.contacts.expire(systemContext('retention'), new Date(Date.now() + 31 * DAY));
    expect(await stack.services.vault.isShredded(stack.services.engine.db, contact.id)).toBe(false);
    expect((await contactsOf(ana)).map((c) => c.id)).toContain(contact.id);
    // One-time: the same code does not work again, for anyone.
    await expectProblem(stack, { method: 'POST', url: '/v1/contacts/accept', headers: auth, payload: { code } }, 400, 'INVITATION_CODE_INVALID');
    // Only a hash of the code was ever stored, and it was never logged.
    expect(leaks(stack, [code, code.replace(/-/g, '')])).toEqual([]);
  });

  it('R-ACC-3: an expired invitation answers 410, the sharer cannot accept their own, and accepting needs an account', async () => {
    const { contact, code } = await invite('share');
    const bo = await signUpUser(stack);
    await expectProblem(stack, { method: 'POST', url: '/v1/contacts/accept', payload: { code } }, 401, 'UNAUTHENTICATED');
    await expectProblem(stack, { method: 'POST', url: '/v1/contacts/accept', headers: ana.auth, payload: { code } }, 409, 'INVITATION_OWN');
    await expectProblem(stack, { method: 'POST', url: '/v1/contacts/accept', headers: bo.auth, payload: { code: 'not a code!' } }, 400, 'VALIDATION_FAILED');
    const { acceptance } = stack.services.contacts;
    acceptance.clock = () => Date.now() + 31 * DAY;
    try {
      await expectProblem(stack, { method: 'POST', url: '/v1/contacts/accept', headers: bo.auth, payload: { code } }, 410, 'INVITATION_EXPIRED');
    } finally {
      acceptance.clock = Date.now;
    }
    expect((await contactsOf(ana)).find((c) => c.id === contact.id)?.status).toBe('pending');
  });

  it('R-ACC-3: repeated wrong codes are throttled per account (even the right code then waits) and per client IP', async () => {
    const { contact, code } = await invite();
    const { acceptance } = stack.services.contacts;
    let now = Date.now();
    acceptance.clock = () => now;
    try {
      const guesser = await signUpUser(stack);
      const wrong = code.startsWith('A') ? `B${code.slice(1)}` : `A${code.slice(1)}`;
      for (let i = 0; i < 5; i++) await expectProblem(stack, { method: 'POST', url: '/v1/contacts/accept', headers: guesser.auth, payload: { code: wrong } }, 400, 'INVITATION_CODE_INVALID');
      const throttled = await accept(guesser.auth, code);
      expect(throttled.statusCode).toBe(429);
      expect(throttled.json().code).toBe('INVITATION_THROTTLED');
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      expect((await contactsOf(ana)).find((c) => c.id === contact.id)?.status).toBe('pending');

      // Many accounts from one address: the address is throttled too, other addresses are not.
      for (let a = 0; a < 4; a++) {
        const u = await signUpUser(stack);
        for (let i = 0; i < 5; i++) await accept(u.auth, wrong, '198.51.100.66');
      }
      // A fresh account with no wrong code of its own: refused, because its address has had 20.
      const fresh = await signUpUser(stack);
      const fromBusyIp = await accept(fresh.auth, code, '198.51.100.66');
      expect(fromBusyIp.json().code).toBe('INVITATION_THROTTLED');
      await expectProblem(stack, { method: 'POST', url: '/v1/contacts/accept', headers: fresh.auth, payload: { code: wrong }, remoteAddress: '198.51.100.67' }, 400, 'INVITATION_CODE_INVALID');
      // Only keyed hashes of addresses are kept.
      const keys = (await stack.services.engine.db.selectFrom('contact_accept_failures').select('key').execute()).map((r) => r.key);
      expect(keys.join(' ')).not.toContain('198.51.100');

      // After the window, the right code works from anywhere.
      now += 15 * 60_000 + 1000;
      const ok = await accept(guesser.auth, code);
      expect(ok.statusCode, ok.body).toBe(200);
      expect((await contactsOf(ana)).find((c) => c.id === contact.id)?.status).toBe('accepted');
      // The retention sweep removes windows that are over.
      await stack.services.contacts.expire(systemContext('retention'), new Date(now));
      expect(await stack.services.engine.db.selectFrom('contact_accept_failures').select('key').where('window_ends_at', '<=', new Date(now).toISOString()).execute()).toEqual([]);
    } finally {
      acceptance.clock = Date.now;
    }
  });

  it('R-ACC-3: wrong codes sent all at once are counted one after the other: exactly five are looked at, the rest refused', async () => {
    const { code } = await invite();
    const guesser = await signUpUser(stack);
    const wrong = code.startsWith('A') ? `B${code.slice(1)}` : `A${code.slice(1)}`;
    const answers = await Promise.all(Array.from({ length: 12 }, () => accept(guesser.auth, wrong, '198.51.100.90')));
    const codes = answers.map((a) => a.json().code as string);
    expect(codes.filter((c) => c === 'INVITATION_CODE_INVALID')).toHaveLength(5);
    expect(codes.filter((c) => c === 'INVITATION_THROTTLED')).toHaveLength(7);
    // A right code that cannot be accepted (the sharer's own) is not a wrong code: it does not use up a guess.
    const own = await invite();
    for (let i = 0; i < 6; i++) await expectProblem(stack, { method: 'POST', url: '/v1/contacts/accept', headers: ana.auth, payload: { code: own.code }, remoteAddress: '198.51.100.91' }, 409, 'INVITATION_OWN');
  });
});
