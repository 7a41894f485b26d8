import type { PledgeMigration } from '../../internal/db/migration.js';

/** The vault's tables in the data store (its keys live in the key store, which opens itself: key-store.ts). */
export const vaultMigrations: PledgeMigration[] = [
  {
    name: '0700_vault_claims',
    async up(db) {
      await db.schema
        .createTable('vault_claims')
        .ifNotExists()
        .addColumn('subject_id', 'text', (c) => c.primaryKey())
        .addColumn('claimed_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
];
