import type { PledgeMigration } from '../../internal/db/migration.js';
import { columnTypes } from '../../internal/db/columns.js';

export const outboxMigrations: PledgeMigration[] = [
  {
    name: '0201_outbox',
    async up(db, kind) {
      const t = columnTypes(kind);
      await db.schema
        .createTable('outbox')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('message', t.bytes, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text')
        .execute();
      // The worker's scan: due pending messages, oldest first.
      await db.schema.createIndex('outbox_due').ifNotExists().on('outbox').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('outbox_subject').ifNotExists().on('outbox').column('subject_id').execute();
    },
  },
  {
    name: '0820_outbox_finished_index',
    async up(db) {
      // The retention sweep's scan: delivered messages by delivery time (pending ones are never touched).
      await db.schema.createIndex('outbox_finished').ifNotExists().on('outbox').columns(['status', 'sent_at']).execute();
      // The weekly count of marketing messages per person (product updates' frequency rule, R-TEL-5).
      await db.schema.createIndex('outbox_subject_kind').ifNotExists().on('outbox').columns(['subject_id', 'kind', 'created_at']).execute();
    },
  },
];
