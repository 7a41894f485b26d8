import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, tmpDir, type TestStack } from '../support/engines.js';
import { runCli } from '../support/cli.js';
import { hashPassword } from '../../src/modules/accounts/password.js';
import { person, signIn, type Person } from '../support/people.js';

const withoutPassword = ({ password: _drop, ...rest }: Person) => rest;

describe.each(ENGINES)('pledge import on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  it('R-ACC-1: imports NDJSON through sign-up rules, skips duplicates, refuses bad lines by code, stores sealed values, and resumes', async () => {
    const hashed = [person(), person(), person()];
    const clear = person();
    const first = withoutPassword(hashed[0]!);
    const passwordHash = await hashPassword(hashed[0]!.password);
    const bad = person({ email: 'Secret-Bad-Value-not-an-email' });
    const lines = [
      ...hashed.map((p) => JSON.stringify({ ...withoutPassword(p), passwordHash })),
      JSON.stringify(clear),
      JSON.stringify({ ...first, email: first.email.toUpperCase(), passwordHash }), // duplicate e-mail
      JSON.stringify(bad), // bad e-mail
      '{"not json',
      JSON.stringify({ ...withoutPassword(person()), passwordHash: '$2b$10$notargon2id' }),
      JSON.stringify({ ...person(), favouriteColour: 'teal' }),
    ];
    const file = path.join(tmpDir(), 'accounts.ndjson');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);

    const run = runCli(['import', file, '--batch-size', '2'], stack.env);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('imported 4, skipped 1 duplicate(s), refused 4');
    expect(run.stdout).toContain('line 6: EMAIL_INVALID');
    expect(run.stdout).toContain('line 7: VALIDATION_FAILED');
    expect(run.stdout).toContain('line 8: VALIDATION_FAILED');
    expect(run.stdout).toContain('line 9: UNKNOWN_FIELD');
    expect(run.stdout + run.stderr).not.toContain('Secret-Bad-Value');

    // Both paths sign in: the imported argon2id hash and the clear password hashed like sign-up.
    await expect(signIn(stack, hashed[1]!.email, hashed[0]!.password)).resolves.toMatch(/\S/);
    await expect(signIn(stack, clear.email, clear.password)).resolves.toMatch(/\S/);

    const rows = await stack.services.engine.db.selectFrom('accounts').selectAll().execute();
    expect(rows).toHaveLength(4);
    const stored = rows.map((r) => Object.values(r).map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v))).join('|')).join('\n');
    for (const p of [...hashed, clear]) {
      for (const value of [p.name, p.email.toLowerCase(), p.phone, p.postalAddress.line1]) expect(stored).not.toContain(value);
    }
    expect(stored).not.toContain('$argon2id$');

    const again = runCli(['import', file], stack.env);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('imported 0, skipped 5 duplicate(s), refused 4');
    expect(await stack.services.engine.db.selectFrom('accounts').select('subject_id').execute()).toHaveLength(4);
  }, 90_000);

  it('R-ACC-1: duplicates inside one batch: a repeated e-mail is skipped, a phone taken by another line is refused; children are marked; the audit chain verifies', async () => {
    const passwordHash = await hashPassword('imported passphrase 2026');
    const [a, b, c] = [person(), person(), person()];
    const child = person({ birthDate: `${new Date().getUTCFullYear() - 10}-01-01` });
    const line = (p: Person) => JSON.stringify({ ...withoutPassword(p), passwordHash });
    const lines = [line(a), line(b), line({ ...a, email: ` ${a.email.toUpperCase()}` }), line({ ...c, phone: b.phone }), line(child), '', line(c)];
    const file = path.join(tmpDir(), 'one-batch.ndjson');
    fs.writeFileSync(file, `${lines.join('\r\n')}\r\n`);

    const run = runCli(['import', file, '--batch-size', '100'], stack.env);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('imported 4, skipped 1 duplicate(s), refused 1');
    expect(run.stdout).toContain('line 4: ACCOUNT_EXISTS');
    await expect(signIn(stack, a.email, 'imported passphrase 2026')).resolves.toMatch(/\S/);
    await expect(signIn(stack, c.email, 'imported passphrase 2026')).resolves.toMatch(/\S/);
    const db = stack.services.engine.db;
    const children = await db.selectFrom('accounts').select('subject_id').where('is_child', '=', 1).execute();
    expect(children).toHaveLength(1);
    expect((await stack.services.consent.subjectStatus.get(db, children[0]!.subject_id)).isChild).toBe(true);
    const created = await db.selectFrom('audit_log').select('subject_id').where('action', '=', 'account.created').execute();
    const imported = await db.selectFrom('accounts').select('subject_id').execute();
    expect(created.map((r) => r.subject_id)).toEqual(expect.arrayContaining(imported.map((r) => r.subject_id)));
    const verify = runCli(['audit', 'verify'], stack.env);
    expect(verify.status).toBe(0);

    // A duplicate of a line in the batch just before (still being written when this one is sorted).
    const [d, e, f] = [person(), person(), person()];
    const next = path.join(tmpDir(), 'next-batch.ndjson');
    fs.writeFileSync(next, [line(d), line(e), line({ ...d, email: d.email.toUpperCase() }), line(f), line({ ...f, phone: e.phone })].join('\n'));
    const again = runCli(['import', next, '--batch-size', '2'], stack.env);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('imported 3, skipped 2 duplicate(s), refused 0');
    expect(runCli(['audit', 'verify'], stack.env).status).toBe(0);
  }, 90_000);

  it('R-ACC-1: an unreadable file exits 1', () => {
    const run = runCli(['import', path.join(tmpDir(), 'missing.ndjson')], stack.env);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('cannot read the file');
  });
});
