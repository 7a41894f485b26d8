import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { backupDataStore, restoreDataStore } from '../support/backup.js';
import { ENGINES, createStack, tmpDir, type TestStack } from '../support/engines.js';
import { dropSchemas } from '../vault/support.js';
import { makePerson, moduleServices, userCtx } from './person.js';

const freshSchema = (): string => `t_${randomBytes(6).toString('hex')}`;

describe.each(ENGINES)('erasure reaches backups on %s', (kind) => {
  const schema = kind === 'postgres' ? freshSchema() : undefined;
  const dataDir = tmpDir();
  const open = () => createStack(kind, { dataDir, ...(schema ? { schema } : {}) });
  let restored: TestStack | undefined;
  afterAll(async () => {
    await restored?.close();
    await dropSchemas(schema);
  });

  it('R-DSR-7: a backup taken before account erasure, restored with the current keys, decrypts none of the person\'s fields', async () => {
    const stack = await open();
    const erased = await makePerson(stack, 2);
    const kept = await makePerson(stack, 1);
    const backup = await backupDataStore(stack);

    const r = await stack.services.rights.requests.file(userCtx(erased.id), { subjectId: erased.id, type: 'erase_account', params: {}, verification: { stepUpAt: new Date().toISOString() } });
    expect(r.status).toBe('completed');
    await stack.close();

    // Disaster recovery: the data store comes back from the backup, beside the current key ring and key store.
    await restoreDataStore(kind, backup, { dataDir, schema });
    restored = await open();
    const db = restored.services.engine.db;
    const { accounts, orders } = moduleServices(restored);
    // The restored store holds the erased person's account and orders again, as ciphertext nobody can open.
    expect(await db.selectFrom('accounts').select('subject_id').where('subject_id', '=', erased.id).execute()).toHaveLength(1);
    await expect(accounts.profile(db, erased.id, 'subject_rights')).rejects.toMatchObject({ code: 'SUBJECT_ERASED' });
    for (const id of erased.orderIds) {
      for (const field of ['items', 'delivery', 'billing_address', 'card'] as const) {
        await expect(orders.readField(userCtx('restore-check'), id, field, 'legal_obligation')).rejects.toMatchObject({ code: 'SUBJECT_ERASED' });
      }
    }
    // The same backup still serves everyone else.
    expect((await accounts.profile(db, kept.id, 'subject_rights')).email).toBe(kept.email);
  });
});
