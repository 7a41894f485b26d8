import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { systemContext } from '../../src/internal/context.js';
import { keyRows } from './support.js';

const ctx = systemContext('vault-new-subjects-test');

describe.each(ENGINES)('vault: new subjects written with their rows on %s', (kind) => {
  let stack: TestStack;
  const keyCount = () => keyRows(stack.services, 'unreserved');
  beforeAll(async () => {
    stack = await createStack(kind);
    await sql`create table vault_first_row (subject_id text primary key, email ${sql.raw(kind === 'postgres' ? 'bytea' : 'blob')}, email_index text unique)`.execute(stack.services.engine.db);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it.runIf(kind === 'sqlite')('R-SEC-4: the SQLite key store commits durably (synchronous FULL) while the data store runs at NORMAL', async () => {
    const level = async (schema: string) => (await sql.raw<{ synchronous: number }>(`PRAGMA ${schema}.synchronous`).execute(stack.services.engine.db)).rows[0]!.synchronous;
    // 2 = FULL: a committed key is on disk before the commit returns; 1 = NORMAL for the data it protects.
    expect(await level('vault_keystore')).toBe(2);
    expect(await level('main')).toBe(1);
  });

  it('R-SEC-4: a prepared batch seals with its own keys even when the key cache has dropped them (a busy server), and opens once stored', async () => {
    const { vault, engine } = stack.services;
    const batch = await vault.prepareSubjects('account', 3);
    vault.forgetKeys();
    const sealed = batch.ids.map((_, i) => vault.sealPrepared(batch, i, 'accounts', { email: `prepared.${i}@pledge-probe.example` }).email!);
    await engine.db.transaction().execute((trx) => vault.storeSubjects(trx, batch));
    vault.forgetKeys();
    for (const [i, id] of batch.ids.entries()) expect(await vault.decrypt(engine.db, id, 'accounts', 'email', sealed[i]!, 'provide_service')).toBe(`prepared.${i}@pledge-probe.example`);
    expect(() => vault.sealPrepared({ ids: batch.ids, keys: batch.keys }, 0, 'accounts', { email: 'x@example.org' })).toThrow(/prepared by this vault/);
  });

  it('R-SEC-4: createSubjectWith stores the wrapped key in the key store and the sealed row in the data store; both open after the cache is dropped', async () => {
    const { vault, engine } = stack.services;
    const id = await engine.db.transaction().execute((trx) =>
      vault.createSubjectWith(trx, ctx, 'account', async (subjectId) => {
        const { email } = await vault.encryptFields(trx, subjectId, 'accounts', { email: 'first.row@pledge-probe.example' });
        return sql`insert into vault_first_row values (${subjectId}, ${email}, ${'idx-1'})`.compile(trx);
      }),
    );
    expect((await vault.keyStore.findKey(engine.db, id))?.wrapped_dek).toBeInstanceOf(Buffer);
    const row = await sql<{ email: Buffer }>`select email from vault_first_row where subject_id = ${id}`.execute(engine.db);
    vault.forgetKeys();
    expect(await vault.decrypt(engine.db, id, 'accounts', 'email', row.rows[0]!.email, 'provide_service')).toBe('first.row@pledge-probe.example');
  });

  it('R-SEC-4: when the row is refused (a unique index), no key is left behind either', async () => {
    const { vault, engine } = stack.services;
    const before = await keyCount();
    let attempted = '';
    const attempt = engine.db.transaction().execute((trx) =>
      vault.createSubjectWith(trx, ctx, 'account', async (subjectId) => {
        attempted = subjectId;
        const { email } = await vault.encryptFields(trx, subjectId, 'accounts', { email: 'second.row@pledge-probe.example' });
        return sql`insert into vault_first_row values (${subjectId}, ${email}, ${'idx-1'})`.compile(trx);
      }),
    );
    await expect(attempt).rejects.toThrow();
    expect(await keyCount()).toBe(before);
    // On SQLite the key may have come from the reserve (made ahead): then it stays unclaimed, for the sweep.
    const left = await vault.keyStore.findKey(engine.db, attempted);
    if (left) {
      expect(left.reserved_at).toEqual(expect.any(String));
      expect(await engine.db.selectFrom('vault_claims').selectAll().where('subject_id', '=', attempted).executeTakeFirst()).toBeUndefined();
    }
  });

  it('R-SEC-4: createSubjects gives every subject its own key, stored in one go, and rolls back with the transaction', async () => {
    const { vault, engine } = stack.services;
    const before = await keyCount();
    const ids = await engine.db.transaction().execute((trx) => vault.createSubjects(trx, ctx, 'account', 40));
    expect(new Set(ids).size).toBe(40);
    expect(await keyCount()).toBe(before + 40);
    const wrapped = await Promise.all(ids.map(async (id) => (await vault.keyStore.findKey(engine.db, id))!.wrapped_dek!.toString('hex')));
    expect(new Set(wrapped).size).toBe(40);
    const sealed = await Promise.all(ids.map((id) => vault.encrypt(engine.db, id, 'accounts', 'name', `Person ${id}`)));
    vault.forgetKeys();
    for (const [i, id] of ids.entries()) expect(await vault.decrypt(engine.db, id, 'accounts', 'name', sealed[i]!, 'provide_service')).toBe(`Person ${id}`);
    // A batch whose transaction fails leaves no key.
    await expect(engine.db.transaction().execute(async (trx) => {
      await vault.createSubjects(trx, ctx, 'account', 25);
      throw new Error('batch failed');
    })).rejects.toThrow('batch failed');
    expect(await keyCount()).toBe(before + 40);
  });
});
