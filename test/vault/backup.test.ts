import fs from 'node:fs';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { backupDataStore, restoreDataStore } from '../support/backup.js';
import { ENGINES, createStack, tmpDir, type TestStack } from '../support/engines.js';
import { systemContext } from '../../src/internal/context.js';
import { appError, dropSchemas, freshSchema } from './support.js';

const ctx = systemContext('vault-backup-test');
const bytesType = (kind: string) => sql.raw(kind === 'postgres' ? 'bytea' : 'blob');

describe.each(ENGINES)('crypto-shred reaches backups on %s', (kind) => {
  const schema = kind === 'postgres' ? freshSchema() : undefined;
  const dataDir = tmpDir();
  const open = () => createStack(kind, { dataDir, ...(schema ? { schema } : {}) });
  let restored: TestStack | undefined;
  afterAll(async () => {
    await restored?.close();
    await dropSchemas(schema);
  });

  it('R-DSR-7: a backup taken before the shred, restored and opened with the current keys, reveals none of the subject\'s fields', async () => {
    const stack = await open();
    const { vault, engine } = stack.services;
    await sql`create table probe (subject_id text primary key, name ${bytesType(kind)}, email ${bytesType(kind)})`.execute(engine.db);
    const gone = await vault.createSubject(engine.db, ctx, 'account');
    const kept = await vault.createSubject(engine.db, ctx, 'account');
    for (const [id, who] of [[gone, 'gone'], [kept, 'kept']] as const) {
      const f = await vault.encryptFields(engine.db, id, 'accounts', { name: `Name ${who}`, email: `${who}@example.org` });
      await sql`insert into probe values (${id}, ${f.name}, ${f.email})`.execute(engine.db);
    }
    const goneKey = (await vault.keyStore.findKey(engine.db, gone))!.wrapped_dek!;

    // The backup, as an operator takes it: the data store only (the key store has its own, short-lived backups).
    const backup = await backupDataStore(stack);
    expect(fs.readFileSync(backup).includes(goneKey)).toBe(false);
    expect(fs.readFileSync(backup).includes(goneKey.toString('hex'))).toBe(false);

    await vault.shred(engine.db, ctx, gone);
    await stack.close();

    // Disaster: the data store is lost and restored from the backup, beside the current key ring and key store.
    await restoreDataStore(kind, backup, { dataDir, schema });
    restored = await open();
    const db = restored.services.engine.db;
    const rows = await sql<{ subject_id: string; name: Buffer; email: Buffer }>`select * from probe`.execute(db);
    expect(rows.rows).toHaveLength(2);
    // The key store keeps only a tombstone of the shredded subject's key.
    expect(await restored.services.vault.keyStore.findKey(db, gone)).toMatchObject({ wrapped_dek: null, kek_version: null, shredded_at: expect.any(String) });
    for (const row of rows.rows) {
      const fields = { name: Buffer.from(row.name), email: Buffer.from(row.email) };
      if (row.subject_id === gone) {
        // The restored data store still holds the ciphertexts, but their key no longer exists anywhere.
        expect((await appError(restored.services.vault.decryptFields(db, gone, 'accounts', fields, 'subject_rights'))).code).toBe('SUBJECT_ERASED');
        expect(await restored.services.vault.isShredded(db, gone)).toBe(true);
      } else {
        expect(await restored.services.vault.decryptFields(db, kept, 'accounts', fields, 'subject_rights')).toEqual({ name: 'Name kept', email: 'kept@example.org' });
      }
    }
  });
});
