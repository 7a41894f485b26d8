import type { PledgeMigration } from '../../internal/db/migration.js';

// No foreign keys to accounts: the record of a request outlives the account it concerned (R-DSR-2).
export const rightsMigrations: PledgeMigration[] = [
  {
    name: '0500_rights',
    async up(db) {
      await db.schema
        .createTable('rights_requests')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('due_at', 'text', (c) => c.notNull())
        .addColumn('extended_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('verification_method', 'text')
        .addColumn('filed_by', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('decline_reason', 'text')
        .addColumn('override_justification', 'text')
        .addColumn('completed_at', 'text')
        .addColumn('export_file', 'text')
        .addColumn('export_expires_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('rights_requests_subject').ifNotExists().on('rights_requests').columns(['subject_id', 'type', 'received_at']).execute();
      await db.schema.createIndex('rights_requests_queue').ifNotExists().on('rights_requests').columns(['status', 'due_at']).execute();
      await db.schema
        .createTable('rights_request_trail')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .execute();
      await db.schema.createIndex('rights_request_trail_request').ifNotExists().on('rights_request_trail').columns(['request_id', 'seq']).execute();
      await db.schema
        .createTable('rights_corrections')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('rights_corrections_subject').ifNotExists().on('rights_corrections').columns(['subject_id', 'at']).execute();
      await db.schema
        .createTable('erasure_steps')
        .ifNotExists()
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('done_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('erasure_steps_pk', ['request_id', 'step'])
        .execute();
      await db.schema
        .createTable('rights_legal_holds')
        .ifNotExists()
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('record_type', 'text', (c) => c.notNull())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('hold_subject_id', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('until', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('rights_legal_holds_pk', ['record_type', 'record_id'])
        .execute();
    },
  },
  {
    // Who is doing a request's work, until when (renewed while it runs): a second runner never starts the same work.
    name: '0501_rights_work_lease',
    async up(db) {
      await db.schema.alterTable('rights_requests').addColumn('work_lease', 'text').execute();
      await db.schema.alterTable('rights_requests').addColumn('work_lease_until', 'text').execute();
    },
  },
  {
    // The access view and the export walk a person's legal holds page by page (R-DSR-6): a range of this index per page.
    name: '0800_rights_legal_holds_subject',
    async up(db) {
      await db.schema.createIndex('rights_legal_holds_subject').ifNotExists().on('rights_legal_holds').columns(['subject_id', 'until', 'record_type', 'record_id']).execute();
    },
  },
];
