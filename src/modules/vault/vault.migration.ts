import { sql } from 'kysely';
import type { PledgeMigration } from '../../internal/db/migration.js';

/** The vault's tables in the data store (its keys live in the key store, which opens itself: key-store.ts). */
export const vaultMigrations: PledgeMigration[] = [
  {
    name: '0700_vault_claims',
    async up(db, kind) {
      // SQLite: one B-tree keyed by the id (WITHOUT ROWID), not a rowid table plus an index: a claim is written in
      // every sign-up's transaction, and each page it dirties is written again by the next checkpoint.
      await db.schema
        .createTable('vault_claims')
        .ifNotExists()
        .addColumn('subject_id', 'text', (c) => c.primaryKey())
        .addColumn('claimed_at', 'text', (c) => c.notNull())
        .$call((t) => (kind === 'sqlite' ? t.modifyEnd(sql`without rowid`) : t))
        .execute();
    },
  },
];
