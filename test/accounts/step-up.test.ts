import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { bearer, newUser } from '../support/people.js';
import { codeIn, startMailPeer } from './mail-peer.js';

describe.each(ENGINES)('accounts: step-up and e-mail on %s', (kind) => {
  let stack: TestStack;
  let peer: Awaited<ReturnType<typeof startMailPeer>>;
  const db = () => stack.services.engine.db;
  beforeAll(async () => {
    peer = await startMailPeer();
    stack = await createStack(kind, { env: { SMTP_URL: peer.url } });
  });
  afterAll(async () => {
    await stack.close();
    await peer.close();
  });

  it('R-DSR-3: the password step-up marks the session verified for the policy window; e-mail changes need it', async () => {
    const { p, token } = await newUser(stack);
    const change = () => stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(token), payload: { email: `new.${p.email}` } });
    const refused = await change();
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('STEP_UP_REQUIRED');
    const wrong = await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { password: 'not the password' } });
    expect(wrong.json().code).toBe('VERIFICATION_FAILED');
    const ok = await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { password: p.password } });
    expect(ok.statusCode).toBe(200);
    const { verifiedAt, verifiedUntil } = ok.json();
    expect(Date.parse(verifiedUntil) - Date.parse(verifiedAt)).toBe(stack.services.policy.requests.verificationWindowMs);
    expect((await change()).statusCode).toBe(200);
    // The old address hears of the change (so a hijacker cannot switch it silently).
    expect((await peer.waitFor(p.email.toLowerCase())).raw).toContain('was changed');
    // The e-mail was re-indexed: the new address signs in, the old one does not.
    expect((await stack.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: `new.${p.email}`, password: p.password } })).statusCode).toBe(201);
    expect((await stack.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: p.email, password: p.password } })).statusCode).toBe(401);
    // Eleven minutes later the verification has lapsed.
    await db().updateTable('sessions').set({ verified_at: new Date(Date.now() - 11 * 60_000).toISOString() }).where('verified_at', '=', verifiedAt).execute();
    expect((await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(token), payload: { phone: '+4915112345678' } })).json().code).toBe('STEP_UP_REQUIRED');
  });

  it('R-DSR-3, R-USE-4: a one-time code goes out through the encrypted outbox over real SMTP and verifies the session', async () => {
    const { p, id, token } = await newUser(stack);
    const sent = await stack.app.inject({ method: 'POST', url: '/v1/me/verify/code', headers: bearer(token) });
    expect(sent.statusCode).toBe(202);
    const mail = await peer.waitFor(p.email.toLowerCase());
    const code = codeIn(mail.raw);
    const row = await db().selectFrom('outbox').selectAll().where('subject_id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'sent', attempts: 1, purpose: 'verify_identity', kind: 'step_up_code', last_error: null });
    const stored = Buffer.from(row.message).toString('latin1');
    expect(stored).not.toContain(code);
    expect(stored.toLowerCase()).not.toContain(p.email.toLowerCase());
    const wrongCode = code === '000000' ? '000001' : '000000';
    expect((await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { code: wrongCode } })).json().code).toBe('VERIFICATION_FAILED');
    const ok = await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { code } });
    expect(ok.statusCode).toBe(200);
    // Used once: the same code does not verify again.
    expect((await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { code } })).json().code).toBe('VERIFICATION_FAILED');
  });

  it('R-DSR-3: five wrong codes burn the code, even for the right one afterwards', async () => {
    const { p, token } = await newUser(stack);
    await stack.app.inject({ method: 'POST', url: '/v1/me/verify/code', headers: bearer(token) });
    const code = codeIn((await peer.waitFor(p.email.toLowerCase())).raw);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++) await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { code: wrong } });
    expect((await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { code } })).json().code).toBe('VERIFICATION_FAILED');
    expect((await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { code, password: p.password } })).statusCode).toBe(400);
  });

  it('R-DSR-3: wrong codes sent all at once each use up an attempt: after twelve at once the right code is refused', async () => {
    const { p, token } = await newUser(stack);
    await stack.app.inject({ method: 'POST', url: '/v1/me/verify/code', headers: bearer(token) });
    const code = codeIn((await peer.waitFor(p.email.toLowerCase())).raw);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const answers = await Promise.all(Array.from({ length: 12 }, () => stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { code: wrong } })));
    expect(answers.map((a) => a.json().code)).toEqual(Array(12).fill('VERIFICATION_FAILED'));
    expect((await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { code } })).json().code).toBe('VERIFICATION_FAILED');
  });
});

describe.each(ENGINES)('notices: outbox delivery states on %s', (kind) => {
  it('R-USE-4: without SMTP_URL the message is delivered as an .eml file into PLEDGE_MAIL_DIR', async () => {
    const stack = await createStack(kind);
    try {
      const { p, token } = await newUser(stack);
      await stack.app.inject({ method: 'POST', url: '/v1/me/verify/code', headers: bearer(token) });
      await stack.services.outbox.deliverDue();
      await stack.services.outbox.deliverDue();
      const dir = stack.config.mailDir;
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.eml'));
      expect(files).toHaveLength(1);
      const raw = fs.readFileSync(path.join(dir, files[0]!), 'utf8');
      expect(raw).toContain(`To: ${p.email.toLowerCase()}`);
      const code = codeIn(raw);
      expect((await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { code } })).statusCode).toBe(200);
      expect(path.relative(stack.config.dataDir, dir).startsWith('..')).toBe(true);
    } finally {
      await stack.close();
    }
  });

  it('R-USE-4: an unreachable SMTP server leaves the message pending with a retry time and an error code, failed after 5 attempts', async () => {
    const peer = await startMailPeer();
    await peer.close(); // a port that refuses connections
    const stack = await createStack(kind, { env: { SMTP_URL: peer.url } });
    try {
      const { token, id } = await newUser(stack);
      await stack.app.inject({ method: 'POST', url: '/v1/me/verify/code', headers: bearer(token) });
      const db = stack.services.engine.db;
      const rowOf = () => db.selectFrom('outbox').selectAll().where('subject_id', '=', id).executeTakeFirstOrThrow();
      // Twice: the first call may join a run of the worker's timer that began before the message was queued.
      const deliver = async () => {
        await stack.services.outbox.deliverDue();
        await stack.services.outbox.deliverDue();
      };
      await deliver();
      let row = await rowOf();
      expect(row.status).toBe('pending');
      expect(row.attempts).toBe(1);
      expect(row.last_error).toMatch(/^[A-Z_]+$/);
      expect(row.next_attempt_at > new Date().toISOString()).toBe(true);
      for (let i = 0; i < 6; i++) {
        await db.updateTable('outbox').set({ next_attempt_at: new Date(0).toISOString() }).where('id', '=', row.id).where('status', '=', 'pending').execute();
        await deliver();
      }
      row = await rowOf();
      expect(row).toMatchObject({ status: 'failed', attempts: 5 });
    } finally {
      await stack.close();
    }
  });
});
