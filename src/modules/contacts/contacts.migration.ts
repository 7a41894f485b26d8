import type { PledgeMigration } from '../../internal/db/migration.js';
import { columnTypes } from '../../internal/db/columns.js';

export const contactsMigrations: PledgeMigration[] = [
  {
    name: '0402_contacts',
    async up(db, kind) {
      const t = columnTypes(kind);
      await db.schema
        .createTable('contacts')
        .ifNotExists()
        .addColumn('subject_id', 'text', (c) => c.primaryKey())
        .addColumn('inviter_subject_id', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('email_index', 'text', (c) => c.notNull())
        .addColumn('name', t.bytes, (c) => c.notNull())
        .addColumn('email', t.bytes, (c) => c.notNull())
        .addColumn('phone', t.bytes)
        .addColumn('address', t.bytes)
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('accepted_at', 'text')
        .execute();
      await db.schema.createIndex('contacts_inviter').ifNotExists().on('contacts').column('inviter_subject_id').execute();
      await db.schema.createIndex('contacts_email_index').ifNotExists().on('contacts').column('email_index').execute();
      await db.schema.createIndex('contacts_expiry').ifNotExists().on('contacts').columns(['status', 'expires_at']).execute();
      await db.schema
        .createTable('contact_erasure_codes')
        .ifNotExists()
        .addColumn('email_index', 'text', (c) => c.primaryKey())
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  {
    // Contacts shared before invitation codes existed keep a null code: their invitee got no mail to accept with.
    name: '0405_contacts_acceptance',
    async up(db) {
      await db.schema.alterTable('contacts').addColumn('accept_code_hash', 'text').execute();
      await db.schema.alterTable('contacts').addColumn('accepted_by_subject_id', 'text').execute();
      await db.schema.createIndex('contacts_accept_code').ifNotExists().unique().on('contacts').column('accept_code_hash').execute();
      await db.schema
        .createTable('contact_accept_failures')
        .ifNotExists()
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('window_ends_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
];
