import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { systemContext } from '../../src/internal/context.js';
import { appError } from './support.js';

const ctx = systemContext('vault-test');

/** Every byte the store holds on disk (SQLite files and WALs) or a dump of the whole PostgreSQL database. */
function storedBytes(stack: TestStack): Buffer {
  if (stack.kind === 'sqlite') {
    const dir = stack.config.dataDir;
    return Buffer.concat(fs.readdirSync(dir).filter((f) => /\.db(-wal)?$/.test(f)).map((f) => fs.readFileSync(path.join(dir, f))));
  }
  return execFileSync('pg_dump', ['-d', 'postgres://postgres@127.0.0.1:5432/test', '-n', stack.schema!, '-n', `${stack.schema!}_keys`], { maxBuffer: 1 << 28 });
}

describe.each(ENGINES)('vault on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
    // A stand-in for a module table holding sealed fields, so the test can scan what lands on disk.
    await sql`create table vault_probe (subject_id text primary key, email ${sql.raw(kind === 'postgres' ? 'bytea' : 'blob')})`.execute(stack.services.engine.db);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('R-SEC-4: a sealed field round-trips and no plaintext reaches the stored bytes', async () => {
    const { vault, engine } = stack.services;
    const email = `round.trip.${kind}.7f3a@pledge-probe.example`;
    const id = await vault.createSubject(engine.db, ctx, 'account');
    const sealed = await vault.encrypt(engine.db, id, 'accounts', 'email', email);
    expect(sealed.includes(Buffer.from(email))).toBe(false);
    expect((await vault.encrypt(engine.db, id, 'accounts', 'email', email)).equals(sealed)).toBe(false); // fresh nonce
    await engine.db.insertInto('vault_probe' as never).values({ subject_id: id, email: sealed } as never).execute();
    vault.forgetKeys(); // force an unwrap from the key store
    expect(await vault.decrypt(engine.db, id, 'accounts', 'email', sealed, 'provide_service')).toBe(email);
    if (kind === 'sqlite') await sql`PRAGMA wal_checkpoint(PASSIVE)`.execute(engine.db);
    const bytes = storedBytes(stack);
    expect(bytes.includes(Buffer.from(sealed.subarray(13, 29)).toString('hex')) || bytes.includes(sealed.subarray(13, 29))).toBe(true); // the scan sees the row
    expect(bytes.includes(Buffer.from(email))).toBe(false);
  });

  it('R-SEC-4: a ciphertext copied to another field or another subject, or altered, fails to decrypt', async () => {
    const { vault, engine } = stack.services;
    const a = await vault.createSubject(engine.db, ctx, 'account');
    const b = await vault.createSubject(engine.db, ctx, 'account');
    const sealed = await vault.encrypt(engine.db, a, 'accounts', 'name', 'Ana Example');
    expect((await appError(vault.decrypt(engine.db, a, 'accounts', 'email', sealed, 'provide_service'))).code).toBe('CIPHERTEXT_INVALID');
    expect((await appError(vault.decrypt(engine.db, b, 'accounts', 'name', sealed, 'provide_service'))).code).toBe('CIPHERTEXT_INVALID');
    expect((await appError(vault.decrypt(engine.db, a, 'contacts', 'name', sealed, 'subject_rights'))).code).toBe('CIPHERTEXT_INVALID');
    const altered = Buffer.from(sealed);
    altered[20] = altered[20]! ^ 1;
    expect((await appError(vault.decrypt(engine.db, a, 'accounts', 'name', altered, 'provide_service'))).code).toBe('CIPHERTEXT_INVALID');
    expect(await vault.decrypt(engine.db, a, 'accounts', 'name', sealed, 'provide_service')).toBe('Ana Example');
  });

  it('R-SEC-4: a wrapped data key copied to another subject does not unwrap', async () => {
    const { vault, engine } = stack.services;
    const a = await vault.createSubject(engine.db, ctx, 'account');
    const b = await vault.createSubject(engine.db, ctx, 'account');
    const sealedB = await vault.encrypt(engine.db, b, 'accounts', 'name', 'Bo');
    const keyA = (await vault.keyStore.findKey(engine.db, a))!.wrapped_dek!;
    await engine.db.withSchema(vault.keyStore.schema).updateTable('vault_keys').set({ wrapped_dek: keyA }).where('subject_id', '=', b).execute();
    vault.forgetKeys();
    const e = await appError(vault.decrypt(engine.db, b, 'accounts', 'name', sealedB, 'provide_service'));
    // Refused at the unwrap (the subject id is bound to the wrapped key), not only later at the field.
    expect([e.code, e.message]).toEqual(['CIPHERTEXT_INVALID', 'A wrapped data key failed its integrity check']);
  });

  it('R-USE-1: decrypting for an undeclared purpose, or one that does not list the category, is refused with a reason', async () => {
    const { vault, engine } = stack.services;
    const id = await vault.createSubject(engine.db, ctx, 'account');
    const sealed = await vault.encryptFields(engine.db, id, 'accounts', { email: 'x@example.org', birth_date: '1990-01-01', zip: null });
    expect(sealed.zip).toBeNull();
    const undeclared = await appError(vault.decrypt(engine.db, id, 'accounts', 'email', sealed.email!, 'resell_to_brokers'));
    expect([undeclared.code, undeclared.status, undeclared.details?.reason]).toEqual(['PURPOSE_DENIED', 403, 'PURPOSE_UNDECLARED']);
    const notListed = await appError(vault.decryptFields(engine.db, id, 'accounts', sealed, 'process_orders'));
    expect([notListed.code, notListed.details?.reason]).toEqual(['PURPOSE_DENIED', 'CATEGORY_NOT_ALLOWED_FOR_PURPOSE']);
    expect(await vault.decryptFields(engine.db, id, 'accounts', sealed, 'subject_rights')).toEqual({ email: 'x@example.org', birth_date: '1990-01-01', zip: null });
  });

  it('R-CLS-1: sealing a field the policy does not declare is refused', async () => {
    const { vault, engine } = stack.services;
    const id = await vault.createSubject(engine.db, ctx, 'account');
    expect((await appError(vault.encrypt(engine.db, id, 'accounts', 'shoe_size', '44'))).code).toBe('UNDECLARED_FIELD');
  });

  it('R-DSR-7: after a shred every ciphertext of the subject reads as SUBJECT_ERASED; others are untouched; audited and idempotent', async () => {
    const { vault, engine, audit } = stack.services;
    const gone = await vault.createSubject(engine.db, ctx, 'contact');
    const kept = await vault.createSubject(engine.db, ctx, 'account');
    const goneFields = await vault.encryptFields(engine.db, gone, 'contacts', { name: 'Ben Invitee', email: 'ben@example.org' });
    const keptName = await vault.encrypt(engine.db, kept, 'accounts', 'name', 'Cleo Kept');
    expect(await vault.shred(engine.db, ctx, gone)).toEqual({ alreadyShredded: false });
    expect(await vault.isShredded(engine.db, gone)).toBe(true);
    expect(await vault.isShredded(engine.db, kept)).toBe(false);
    const e = await appError(vault.decryptFields(engine.db, gone, 'contacts', goneFields, 'subject_rights'));
    expect([e.code, e.status]).toEqual(['SUBJECT_ERASED', 410]);
    expect((await appError(vault.encrypt(engine.db, gone, 'contacts', 'name', 'again'))).code).toBe('SUBJECT_ERASED');
    expect(await vault.decrypt(engine.db, kept, 'accounts', 'name', keptName, 'provide_service')).toBe('Cleo Kept');
    expect(await vault.shred(engine.db, ctx, gone)).toEqual({ alreadyShredded: true });
    const entries = await engine.db.selectFrom('audit_log').select(['action', 'subject_id']).where('action', '=', 'vault.subject_shredded').execute();
    expect(entries.filter((x) => x.subject_id === gone)).toHaveLength(1);
    expect((await audit.verify(engine.db)).ok).toBe(true);
    expect((await appError(vault.shred(engine.db, ctx, '00000000-0000-4000-8000-000000000000'))).code).toBe('NOT_FOUND');
  });

  it('R-SEC-4: blind indexes are equal for differently written equal e-mails and phones, different otherwise', () => {
    const { vault } = stack.services;
    const e = vault.blindIndex('email', 'ana@example.org');
    expect(vault.blindIndex('email', '  Ana@Example.ORG ')).toBe(e);
    expect(vault.blindIndex('email', 'ana2@example.org')).not.toBe(e);
    expect(e).toMatch(/^[0-9a-f]{64}$/);
    const p = vault.blindIndex('phone', '+49 30 1234567');
    expect(vault.blindIndex('phone', '030 1234567', 'DE')).toBe(p);
    expect(vault.blindIndex('phone', '+49-30-123 4567')).toBe(p);
    expect(vault.blindIndex('phone', '+49 30 1234568')).not.toBe(p);
    expect(vault.blindIndex('phone', '+33 1 23 45 67 89')).not.toBe(p);
    expect(() => vault.blindIndex('email', 'not-an-address')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => vault.blindIndex('phone', '12')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
