import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { appError } from '../vault/support.js';
import { systemContext } from '../../src/internal/context.js';
import { countRows, expectProblem, leaks, signUpUser, type User } from './support.js';

const DAY = 86_400_000;

describe.each(ENGINES)('shared contacts on %s', (kind) => {
  let stack: TestStack;
  let ana: User;
  let bo: User;
  const invitee = { name: 'Walburga Feuerstein', email: `walburga.${kind}@invitee.example`, phone: '+49 30 901820', address: { line1: '7 Lindenallee', city: 'Potsdam', postalCode: '14467', country: 'DE' }, reason: 'invite' };
  const share = (u: User, payload: Record<string, unknown>) => stack.app.inject({ method: 'POST', url: '/v1/me/contacts', headers: u.auth, payload });
  /** The erasure code from the .eml the outbox delivered to `to` (the mail directory stands for the mailboxes). */
  const codeSentTo = async (to: string): Promise<string | undefined> => {
    // A delivery already running (kicked by an earlier share) is joined, not restarted: drain until idle.
    while ((await stack.services.outbox.deliverDue()).sent > 0);
    const dir = stack.config.mailDir;
    if (!fs.existsSync(dir)) return undefined;
    const files = fs.readdirSync(dir).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
    const mails = files.map((f) => fs.readFileSync(f, 'utf8')).filter((m) => m.includes(to) && m.includes('erasure'));
    return mails.map((m) => /enter this code: (\d{6})/.exec(m)?.[1]).filter(Boolean).at(-1);
  };

  beforeAll(async () => {
    stack = await createStack(kind);
    ana = await signUpUser(stack);
    bo = await signUpUser(stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('R-ACC-3: a shared contact is a subject of its own, linked to the sharer, readable only for the share', async () => {
    const res = await share(ana, invitee);
    expect(res.statusCode, res.body).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({ name: invitee.name, email: invitee.email, phone: '+4930901820', reason: 'invite', status: 'pending' });
    expect(Date.parse(c.expiresAt) - Date.parse(c.createdAt)).toBe(30 * DAY);
    const { engine, vault } = stack.services;
    const row = await engine.db.selectFrom('contacts').selectAll().where('subject_id', '=', c.id).executeTakeFirstOrThrow();
    expect(row.inviter_subject_id).toBe(ana.id);
    expect(c.id).not.toBe(ana.id);
    // Its own key: the ciphertext does not open as the inviter's, and opens only for the share purpose.
    expect((await appError(vault.decrypt(engine.db, ana.id, 'contacts', 'email', Buffer.from(row.email), 'share_and_invite'))).code).toBe('CIPHERTEXT_INVALID');
    expect(await vault.decrypt(engine.db, c.id, 'contacts', 'email', Buffer.from(row.email), 'share_and_invite')).toBe(invitee.email);
    for (const purpose of ['marketing_messages', 'personalised_ads', 'provide_service']) {
      expect((await appError(vault.decrypt(engine.db, c.id, 'contacts', 'email', Buffer.from(row.email), purpose))).code).toBe('PURPOSE_DENIED');
    }
    expect(leaks(stack, [invitee.name, invitee.email, '+4930901820', 'Lindenallee'])).toEqual([]);
  });

  it('R-ACC-3: unaccepted contacts expire after the policy retention (shredded), accepted ones stay', async () => {
    const keep = (await share(ana, { name: 'Kept Kontakt', email: 'kept@invitee.example', reason: 'share' })).json();
    const drop = (await share(ana, { name: 'Dropped Kontakt', email: 'dropped@invitee.example', reason: 'share' })).json();
    const { contacts, vault, engine } = stack.services;
    expect(await contacts.markAccepted(systemContext('invitation'), keep.id)).toBe(true);
    expect(await contacts.expire(systemContext('retention'), new Date(Date.now() + 29 * DAY))).toEqual({ expired: 0, failed: 0 });
    const sweep = await contacts.expire(systemContext('retention'), new Date(Date.now() + 31 * DAY));
    expect(sweep.expired).toBeGreaterThanOrEqual(1);
    expect(await vault.isShredded(engine.db, drop.id)).toBe(true);
    expect(await vault.isShredded(engine.db, keep.id)).toBe(false);
    const ids = (await stack.app.inject({ method: 'GET', url: '/v1/me/contacts', headers: ana.auth })).json().contacts.map((c: { id: string }) => c.id);
    expect(ids).toContain(keep.id);
    expect(ids).not.toContain(drop.id);
  });

  it('R-ACC-3: the invitee erases themselves by e-mail: a code to the address, then every copy is shredded', async () => {
    const first = (await share(ana, invitee)).json();
    const second = (await share(bo, { ...invitee, email: invitee.email.toUpperCase(), reason: 'share' })).json();
    const ask = await stack.app.inject({ method: 'POST', url: '/v1/contacts/erasure', payload: { email: invitee.email } });
    const unknown = await stack.app.inject({ method: 'POST', url: '/v1/contacts/erasure', payload: { email: 'nobody.here@invitee.example' } });
    // The same answer whether or not we hold the address.
    expect([ask.statusCode, unknown.statusCode]).toEqual([202, 202]);
    expect(ask.json()).toEqual(unknown.json());
    expect(await codeSentTo('nobody.here@invitee.example')).toBeUndefined();
    const code = await codeSentTo(invitee.email);
    expect(code).toMatch(/^\d{6}$/);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await expectProblem(stack, { method: 'POST', url: '/v1/contacts/erasure/confirm', payload: { email: invitee.email, code: wrong } }, 400, 'ERASURE_CODE_INVALID');
    const ok = await stack.app.inject({ method: 'POST', url: '/v1/contacts/erasure/confirm', payload: { email: invitee.email, code } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().erased).toBe(2);
    const { vault, engine } = stack.services;
    for (const id of [first.id, second.id]) expect(await vault.isShredded(engine.db, id)).toBe(true);
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me/contacts', headers: bo.auth })).json().contacts).toEqual([]);
    // A used code does not work twice.
    await expectProblem(stack, { method: 'POST', url: '/v1/contacts/erasure/confirm', payload: { email: invitee.email, code } }, 400, 'ERASURE_CODE_INVALID');
    expect(leaks(stack, [code!])).toEqual([]);
  });

  it('R-ACC-3: guessing is capped: five wrong codes lock the address, and asking for a new code does not reset that', async () => {
    const c = (await share(ana, { name: 'Guess Target', email: 'guess.target@invitee.example', reason: 'share' })).json();
    await stack.app.inject({ method: 'POST', url: '/v1/contacts/erasure', payload: { email: 'guess.target@invitee.example' } });
    const real = await codeSentTo('guess.target@invitee.example');
    const wrong = String((Number(real) + 1) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++) await stack.app.inject({ method: 'POST', url: '/v1/contacts/erasure/confirm', payload: { email: 'guess.target@invitee.example', code: wrong } });
    await stack.app.inject({ method: 'POST', url: '/v1/contacts/erasure', payload: { email: 'guess.target@invitee.example' } });
    const fresh = await codeSentTo('guess.target@invitee.example');
    await expectProblem(stack, { method: 'POST', url: '/v1/contacts/erasure/confirm', payload: { email: 'guess.target@invitee.example', code: fresh } }, 400, 'ERASURE_CODE_INVALID');
    expect(await stack.services.vault.isShredded(stack.services.engine.db, c.id)).toBe(false);
  });

  it('R-ACC-3: wrong codes sent all at once each use up an attempt: after twelve at once even the right code is refused', async () => {
    const email = 'parallel.target@invitee.example';
    const c = (await share(ana, { name: 'Parallel Target', email, reason: 'share' })).json();
    await stack.app.inject({ method: 'POST', url: '/v1/contacts/erasure', payload: { email } });
    const real = await codeSentTo(email);
    const wrong = String((Number(real) + 1) % 1_000_000).padStart(6, '0');
    const answers = await Promise.all(Array.from({ length: 12 }, () => stack.app.inject({ method: 'POST', url: '/v1/contacts/erasure/confirm', payload: { email, code: wrong } })));
    expect(answers.map((a) => a.json().code)).toEqual(Array(12).fill('ERASURE_CODE_INVALID'));
    await expectProblem(stack, { method: 'POST', url: '/v1/contacts/erasure/confirm', payload: { email, code: real } }, 400, 'ERASURE_CODE_INVALID');
    expect(await stack.services.vault.isShredded(stack.services.engine.db, c.id)).toBe(false);
  });

  it('R-ACC-3: bad input is refused and nothing is written; others cannot see or delete your contacts', async () => {
    const before = await countRows(stack, 'contacts');
    await expectProblem(stack, { method: 'POST', url: '/v1/me/contacts', headers: ana.auth, payload: { ...invitee, email: 'not-an-address' } }, 400, 'VALIDATION_FAILED');
    await expectProblem(stack, { method: 'POST', url: '/v1/me/contacts', headers: ana.auth, payload: { ...invitee, phone: '12' } }, 400, 'VALIDATION_FAILED');
    await expectProblem(stack, { method: 'POST', url: '/v1/me/contacts', headers: ana.auth, payload: { ...invitee, reason: 'spam' } }, 400, 'VALIDATION_FAILED');
    await expectProblem(stack, { method: 'POST', url: '/v1/me/contacts', headers: ana.auth, payload: { ...invitee, birthday: '2000-01-01' } }, 400, 'UNKNOWN_FIELD');
    await expectProblem(stack, { method: 'POST', url: '/v1/me/contacts', headers: ana.auth, payload: { ...invitee, name: 'x'.repeat(201) } }, 400, 'VALIDATION_FAILED');
    await expectProblem(stack, { method: 'POST', url: '/v1/contacts/erasure/confirm', payload: { email: invitee.email, code: 'abc' } }, 400, 'VALIDATION_FAILED');
    expect(await countRows(stack, 'contacts')).toBe(before);
    const mine = (await share(ana, { name: 'Private Person', email: 'private@invitee.example', reason: 'share' })).json();
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me/contacts', headers: bo.auth })).json().contacts.map((c: { id: string }) => c.id)).not.toContain(mine.id);
    await expectProblem(stack, { method: 'DELETE', url: `/v1/me/contacts/${mine.id}`, headers: bo.auth }, 404, 'NOT_FOUND');
    await expectProblem(stack, { method: 'POST', url: '/v1/me/contacts', payload: invitee }, 401, 'UNAUTHENTICATED');
    const del = await stack.app.inject({ method: 'DELETE', url: `/v1/me/contacts/${mine.id}`, headers: ana.auth });
    expect(del.statusCode).toBe(204);
    expect(await stack.services.vault.isShredded(stack.services.engine.db, mine.id)).toBe(true);
  });
});
