import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, PG_URL, createStack, type TestStack } from '../support/engines.js';
import { bearer, person, signIn, signUp } from '../support/people.js';
import { codeIn } from './mail-peer.js';
import { occursOutsideHashes } from '../support/byte-search.js';

/** Every file under a directory (SQLite: pledge.db, its WAL and SHM, the attached key file and its WAL). */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe.each(ENGINES)('R-SEC-4: no plaintext personal data at rest or in logs on %s', (kind) => {
  let stack: TestStack;
  const secrets: string[] = [];

  beforeAll(async () => {
    stack = await createStack(kind);
    for (let i = 0; i < 3; i++) {
      const p = person({ birthDate: `193${i}-03-17`, postalAddress: { line1: `Xylophonstrasse ${i}${Date.now() % 1000} Hinterhof`, city: 'Quedlinburgische', postalCode: '06484', country: 'DE' } });
      await signUp(stack, p);
      const token = await signIn(stack, p.email, p.password);
      // Exercise every write path: profile change with step-up, a queued and delivered one-time code.
      await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: bearer(token), payload: { password: p.password } });
      const newEmail = `Renamed.${p.email}`;
      const patched = await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: bearer(token), payload: { email: newEmail, name: `${p.name} Jr` } });
      expect(patched.statusCode).toBe(200);
      await stack.app.inject({ method: 'POST', url: '/v1/me/verify/code', headers: bearer(token) });
      // A failed sign-up and sign-in with the same values must not leak them either.
      await stack.app.inject({ method: 'POST', url: '/v1/accounts', payload: { ...p, email: newEmail } });
      await stack.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: newEmail, password: 'wrong password 42' } });
      secrets.push(p.name, p.email, p.email.toLowerCase(), newEmail.toLowerCase(), p.phone, p.phone.slice(1), p.postalAddress.line1, p.birthDate, p.password, `${p.name} Jr`);
    }
    await stack.services.outbox.deliverDue();
    await stack.services.outbox.deliverDue();
    const sent = await stack.services.engine.db.selectFrom('outbox').select('status').execute();
    expect(sent.map((s) => s.status)).toEqual(Array(6).fill('sent')); // per person: a code and an "e-mail changed" notice
    // The mail really carried a code (the delivery worked), yet the store holds none of it in clear.
    const eml = fs.readdirSync(stack.config.mailDir).map((f) => fs.readFileSync(path.join(stack.config.mailDir, f), 'utf8'));
    const codes = eml.filter((m) => m.includes('Your code:')).map(codeIn);
    expect(codes).toHaveLength(3);
    secrets.push(...codes);
  });
  afterAll(async () => stack.close());

  const findIn = (haystack: Buffer): string[] => secrets.filter((s) => s !== '' && occursOutsideHashes(haystack, Buffer.from(s, 'utf8')));

  it('R-SEC-4, R-ACC-1: the whole store (SQLite file + WAL + key file, or pg_dump of the schemas) holds none of the values', async () => {
    let dump: Buffer;
    if (kind === 'sqlite') {
      const files = filesUnder(stack.config.dataDir);
      expect(files.some((f) => f.endsWith('-wal'))).toBe(true);
      dump = Buffer.concat(files.map((f) => fs.readFileSync(f)));
    } else {
      dump = execFileSync('pg_dump', ['--dbname', PG_URL, `--schema=${stack.schema}`, `--schema=${stack.schema}_keys`], { maxBuffer: 256 * 1024 * 1024 });
      expect(dump.toString('utf8')).toContain('CREATE TABLE');
      expect(dump.toString('utf8')).toContain('COPY');
    }
    expect(dump.length).toBeGreaterThan(10_000);
    // The search itself works: it finds what is stored in clear on purpose (an audit action name).
    expect(dump.includes(Buffer.from('account.created'))).toBe(true);
    // A code in clear is found even beside other digits; inside a 64-digit hash it is a coincidence.
    expect(occursOutsideHashes(Buffer.from('{"code":"123456"} 9123456'), Buffer.from('123456'))).toBe(true);
    expect(occursOutsideHashes(Buffer.from(`x${'ab'.repeat(20)}123456${'0f'.repeat(9)}x`), Buffer.from('123456'))).toBe(false);
    // Inside a UUID row id (SQLite writes them back to back) it is a coincidence too; right beside one it is a leak.
    expect(occursOutsideHashes(Buffer.from('\u0001ba9fcb6b8-dc3d-4387-9f1f-ea1608801234561b1307-728a-4d21-a869-b74b19de8a58\u0000'), Buffer.from('123456'))).toBe(false);
    expect(occursOutsideHashes(Buffer.from('\u0001a9fcb6b8-dc3d-4387-9f1f-ea160881294e123456\u0000'), Buffer.from('123456'))).toBe(true);
    expect(findIn(dump)).toEqual([]);
  });

  it('R-SEC-4: the server log of all of it holds none of the values', () => {
    const log = Buffer.from(stack.logs.text(), 'utf8');
    expect(log.length).toBeGreaterThan(1000);
    expect(findIn(log)).toEqual([]);
  });
});
