import type { PledgeMigration } from '../../internal/db/migration.js';
import { sql } from 'kysely';
import { columnTypes } from '../../internal/db/columns.js';
import { carryOldBudget } from './insights.migration.js';

export const telemetryMigrations: PledgeMigration[] = [
  {
    name: '0600_telemetry_events',
    async up(db, kind) {
      const t = columnTypes(kind);
      // No primary key: an append-only fact table loaded by COPY; the sweeper deletes by day.
      await db.schema
        .createTable('telemetry_events')
        .ifNotExists()
        .addColumn('pseudonym', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('fields', 'text', (c) => c.notNull())
        .addColumn('model', 'text')
        .addColumn('firmware', 'text')
        .addColumn('region', 'text')
        .addColumn('day', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('telemetry_events_day').ifNotExists().on('telemetry_events').columns(['day', 'event']).execute();
      await db.schema
        .createTable('telemetry_epochs')
        .ifNotExists()
        .addColumn('epoch', 'integer', (c) => c.primaryKey())
        .addColumn('secret', t.bytes)
        .addColumn('starts_at', 'text', (c) => c.notNull())
        .addColumn('ends_at', 'text', (c) => c.notNull())
        .addColumn('destroyed_at', 'text')
        .execute();
      await db.schema
        .createTable('telemetry_links')
        .ifNotExists()
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('epoch', 'integer', (c) => c.notNull())
        .addColumn('salt', t.bytes, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('telemetry_links_pk', ['subject_id', 'epoch'])
        .execute();
      await db.schema
        .createTable('device_tokens')
        .ifNotExists()
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('device_ref', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('firmware', 'text', (c) => c.notNull())
        .addColumn('region', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('device_tokens_subject').ifNotExists().on('device_tokens').columns(['subject_id']).execute();
    },
  },
  {
    name: '0601_telemetry_stores',
    async up(db, kind) {
      const t = columnTypes(kind);
      await db.schema
        .createTable('crash_reports')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('model', 'text')
        .addColumn('firmware', 'text')
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('pii_counts', 'text', (c) => c.notNull())
        .addColumn('device_id', t.bytes)
        .addColumn('ip', t.bytes)
        .addColumn('route', t.bytes)
        .execute();
      await db.schema.createIndex('crash_reports_received').ifNotExists().on('crash_reports').columns(['received_at']).execute();
      await db.schema.createIndex('crash_reports_subject').ifNotExists().on('crash_reports').columns(['subject_id']).execute();
      await db.schema
        .createTable('access_log')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('ip_prefix', 'text', (c) => c.notNull())
        .addColumn('ip_truncated', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('browser', 'text')
        .addColumn('os', 'text')
        .addColumn('language', 'text')
        .addColumn('referrer', 'text')
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('clickstream', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('access_log_at').ifNotExists().on('access_log').columns(['at']).execute();
      await db.schema.createIndex('access_log_subject').ifNotExists().on('access_log').columns(['subject_id']).execute();
      await db.schema
        .createTable('pixel_tokens')
        .ifNotExists()
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('message_ref', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('email_opens')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('message_ref', 'text', (c) => c.notNull())
        .addColumn('opened_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('email_opens_subject').ifNotExists().on('email_opens').columns(['subject_id', 'opened_at']).execute();
      await db.schema
        .createTable('privacy_budgets')
        .ifNotExists()
        .addColumn('dataset', 'text', (c) => c.primaryKey())
        .addColumn('spent', kind === 'postgres' ? 'double precision' : 'real', (c) => c.notNull())
        .addColumn('total', kind === 'postgres' ? 'double precision' : 'real', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    // R-CLS-2 / R-SEC-4: a device's model, firmware and region stored beside its owner are personal, so they are
    // sealed. SQLite cannot change a column's type or drop NOT NULL, so the table is rebuilt (same steps on both
    // engines). A migration holds no keys: existing values move to nullable legacy_* columns, which
    // `resolveDeviceToken` (first use) and the sweeper's `telemetry.device_tokens_sealed` step seal and clear.
    name: '0602_device_tokens_sealed',
    async up(db, kind) {
      const t = columnTypes(kind);
      await db.schema
        .createTable('device_tokens_next')
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('device_ref', 'text', (c) => c.notNull())
        .addColumn('model', t.bytes)
        .addColumn('firmware', t.bytes)
        .addColumn('region', t.bytes)
        .addColumn('legacy_model', 'text')
        .addColumn('legacy_firmware', 'text')
        .addColumn('legacy_region', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        // Named so that it reads right after the rename (PostgreSQL keeps constraint names).
        .addPrimaryKeyConstraint('device_tokens_pk', ['token_hash'])
        .execute();
      await sql`INSERT INTO device_tokens_next (token_hash, subject_id, device_ref, legacy_model, legacy_firmware, legacy_region, created_at, revoked_at)
        SELECT token_hash, subject_id, device_ref, model, firmware, region, created_at, revoked_at FROM device_tokens`.execute(db);
      await db.schema.dropTable('device_tokens').execute();
      await db.schema.alterTable('device_tokens_next').renameTo('device_tokens').execute();
      await db.schema.createIndex('device_tokens_subject').on('device_tokens').columns(['subject_id']).execute();
      await db.schema.createIndex('device_tokens_legacy').on('device_tokens').columns(['legacy_model']).execute();
    },
  },
  {
    // R-CLS-2 / R-SEC-4: a crash report's model and firmware sit beside its owner's subject id, so they are sealed
    // like its other identifiers. A migration holds no keys and crash reports live only for their short retention,
    // so the plaintext of reports already stored is cleared rather than carried over.
    name: '0603_crash_reports_sealed',
    async up(db, kind) {
      const t = columnTypes(kind);
      await db.schema
        .createTable('crash_reports_next')
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('model', t.bytes)
        .addColumn('firmware', t.bytes)
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('pii_counts', 'text', (c) => c.notNull())
        .addColumn('device_id', t.bytes)
        .addColumn('ip', t.bytes)
        .addColumn('route', t.bytes)
        .addPrimaryKeyConstraint('crash_reports_pk', ['id'])
        .execute();
      await sql`INSERT INTO crash_reports_next (id, subject_id, received_at, body, pii_counts, device_id, ip, route)
        SELECT id, subject_id, received_at, body, pii_counts, device_id, ip, route FROM crash_reports`.execute(db);
      await db.schema.dropTable('crash_reports').execute();
      await db.schema.alterTable('crash_reports_next').renameTo('crash_reports').execute();
      await db.schema.createIndex('crash_reports_received').on('crash_reports').columns(['received_at']).execute();
      await db.schema.createIndex('crash_reports_subject').on('crash_reports').columns(['subject_id']).execute();
    },
  },
  {
    // R-AGG-1: the privacy budget is spent per pseudonym epoch a release can see, kept as one ledger row per day
    // (UTC), not per dataset name (a new name over the same events got a fresh budget).
    name: '0810_privacy_budget_days',
    async up(db, kind) {
      await db.schema
        .createTable('privacy_budget_days')
        .ifNotExists()
        .addColumn('day', 'text', (c) => c.primaryKey())
        .addColumn('spent', kind === 'postgres' ? 'double precision' : 'real', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await carryOldBudget(db, kind);
      await db.schema.dropTable('privacy_budgets').ifExists().execute();
    },
  },
  {
    // A signed-in person's full IP moves under their key (the clear column keeps the prefix): a backup taken before
    // their erasure showed the addresses of their requests in clear. Rows written before keep theirs until truncation.
    name: '0831_access_log_ip_sealed',
    async up(db, kind) {
      await db.schema.alterTable('access_log').addColumn('ip_sealed', kind === 'postgres' ? 'bytea' : 'blob').execute();
    },
  },
];
