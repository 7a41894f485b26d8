import { sql } from 'kysely';
import type { PledgeMigration } from '../../internal/db/migration.js';

export const auditMigrations: PledgeMigration[] = [
  {
    name: '0001_audit',
    async up(db, kind) {
      await db.schema
        .createTable('audit_log')
        .ifNotExists()
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text')
        .addColumn('purpose', 'text')
        .addColumn('target', 'text')
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('policy_version', 'text', (c) => c.notNull())
        .addColumn('policy_hash', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_subject').ifNotExists().on('audit_log').columns(['subject_id', 'seq']).execute();
      await db.schema
        .createTable('audit_head')
        .ifNotExists()
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      if (kind === 'postgres') {
        // Append-only at the engine: even a bug or a stray psql session cannot edit history.
        await sql`CREATE OR REPLACE FUNCTION pledge_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$`.execute(db);
        await sql`DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log`.execute(db);
        await sql`CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION pledge_audit_append_only()`.execute(db);
        await sql`DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log`.execute(db);
        await sql`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION pledge_audit_append_only()`.execute(db);
      } else {
        await sql`CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (UPDATE refused)'); END`.execute(db);
        await sql`CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (DELETE refused)'); END`.execute(db);
      }
    },
  },
];
