import type { PledgeMigration } from '../../internal/db/migration.js';
import { columnTypes } from '../../internal/db/columns.js';

export const accountsMigrations: PledgeMigration[] = [
  {
    name: '0200_accounts',
    async up(db, kind) {
      const t = columnTypes(kind);
      let table = db.schema
        .createTable('accounts')
        .ifNotExists()
        .addColumn('subject_id', 'text', (c) => c.primaryKey())
        // The unique constraints are what answers ACCOUNT_EXISTS, also under concurrent sign-ups.
        .addColumn('email_index', 'text', (c) => c.notNull().unique())
        .addColumn('phone_index', 'text', (c) => c.notNull().unique());
      for (const field of ['name', 'email', 'phone', 'postal_address', 'birth_date', 'password_hash', 'region', 'language', 'time_zone', 'location_precision']) {
        table = table.addColumn(field, t.bytes, (c) => c.notNull());
      }
      await table
        .addColumn('zip', t.bytes)
        .addColumn('area_code', t.bytes)
        .addColumn('is_child', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('sessions')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull().references('accounts.subject_id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('verified_at', 'text')
        .addColumn('step_up_code', t.bytes)
        .addColumn('step_up_code_expires_at', 'text')
        .addColumn('step_up_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('sessions_subject').ifNotExists().on('sessions').column('subject_id').execute();

      await db.schema
        .createTable('sign_in_throttle')
        .ifNotExists()
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('last_failure_at', 'text', (c) => c.notNull())
        .addColumn('locked_until', 'text')
        .execute();
    },
  },
];
