import { sql } from 'kysely';
import type { PledgeMigration } from '../../internal/db/migration.js';
import { columnTypes } from '../../internal/db/columns.js';

export const consentMigrations: PledgeMigration[] = [
  {
    name: '0300_consent',
    async up(db, kind) {
      await db.schema
        .createTable('consent_events')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('policy_version', 'text', (c) => c.notNull())
        .addColumn('policy_hash', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('collection_method', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('receipt_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('consent_events_subject').ifNotExists().on('consent_events').columns(['subject_id', 'at']).execute();
      await db.schema
        .createTable('consent_current')
        .ifNotExists()
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('collection_method', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addPrimaryKeyConstraint('consent_current_pk', ['subject_id', 'purpose'])
        .execute();
      await db.schema
        .createTable('consent_receipts')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('jws', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('consent_receipts_subject').ifNotExists().on('consent_receipts').columns(['subject_id', 'at']).execute();
      await db.schema
        .createTable('consent_signing_keys')
        .ifNotExists()
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('subject_status')
        .ifNotExists()
        .addColumn('subject_id', 'text', (c) => c.primaryKey())
        .addColumn('is_child', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('guardian_consent', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('restricted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('restricted_reason', 'text')
        .addColumn('erased_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('api_keys')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      // The ledger is history: the engine itself refuses to rewrite it.
      if (kind === 'postgres') {
        await sql`CREATE OR REPLACE FUNCTION pledge_consent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'consent_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$`.execute(db);
        await sql`DROP TRIGGER IF EXISTS consent_events_append_only ON consent_events`.execute(db);
        await sql`CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events FOR EACH ROW EXECUTE FUNCTION pledge_consent_append_only()`.execute(db);
      } else {
        await sql`CREATE TRIGGER IF NOT EXISTS consent_events_no_update BEFORE UPDATE ON consent_events BEGIN SELECT RAISE(ABORT, 'consent_events is append-only (UPDATE refused)'); END`.execute(db);
        await sql`CREATE TRIGGER IF NOT EXISTS consent_events_no_delete BEFORE DELETE ON consent_events BEGIN SELECT RAISE(ABORT, 'consent_events is append-only (DELETE refused)'); END`.execute(db);
      }
    },
  },
  {
    name: '0301_decision_changes',
    async up(db, kind) {
      // PostgreSQL announces changes with NOTIFY; SQLite processes sharing a file poll this table instead.
      if (kind !== 'sqlite') return;
      await db.schema
        .createTable('decision_changes')
        .ifNotExists()
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    // What a key may do: `service` (the decision API, published aggregates) or `admin` (staff: the rights queue,
    // order delivery). Keys made before scopes existed become `service` keys: none of them silently keeps the admin API.
    name: '0302_api_key_scope',
    async up(db) {
      await db.schema.alterTable('api_keys').addColumn('scope', 'text', (c) => c.notNull().defaultTo('service')).execute();
    },
  },
  {
    // The receipt signing key's private half moves under a vault key (ReceiptSigner.init seals a clear one it finds
    // and empties `private_jwk`): whoever holds a copy of the data store alone can no longer forge receipts.
    name: '0830_signing_key_sealed',
    async up(db, kind) {
      await db.schema.alterTable('consent_signing_keys').addColumn('private_sealed', columnTypes(kind).bytes).execute();
      await db.schema.alterTable('consent_signing_keys').addColumn('vault_key_id', 'text').execute();
    },
  },
];
