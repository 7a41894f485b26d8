import { sql } from 'kysely';
import type { PledgeMigration } from '../../internal/db/migration.js';
import { columnTypes } from '../../internal/db/columns.js';

export const devicesMigrations: PledgeMigration[] = [
  {
    name: '0401_devices',
    async up(db, kind) {
      const t = columnTypes(kind);
      await db.schema
        .createTable('devices')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('device_id', t.bytes, (c) => c.notNull())
        .addColumn('imei', t.bytes, (c) => c.notNull())
        .addColumn('model', t.bytes, (c) => c.notNull())
        .addColumn('firmware', t.bytes, (c) => c.notNull())
        .addColumn('location_precision', t.bytes)
        .addColumn('location', t.bytes)
        .addColumn('precise_location', t.bytes)
        .addColumn('last_event', 'text', (c) => c.notNull())
        .addColumn('activated_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('devices_subject').ifNotExists().on('devices').columns(['subject_id', 'activated_at']).execute();
    },
  },
  {
    // Rows written before it keep a null index and are indexed lazily, the first time their owner's device
    // is looked up (DevicesService.findByDeviceId): a migration cannot open them, it holds no keys.
    name: '0404_devices_id_index',
    async up(db) {
      await db.schema.alterTable('devices').addColumn('device_id_index', 'text').execute();
      await db.schema.createIndex('devices_id_index').ifNotExists().on('devices').columns(['subject_id', 'device_id_index']).execute();
    },
  },
  {
    // One row per owner and device, enforced by the store: the in-process lock of activation does not reach a second
    // process (the MQTT bridge, another instance), where two first activations of one device made two rows with two
    // live tokens — erasing the device revoked one. Numbered after telemetry's migrations (it touches device_tokens).
    // Duplicates already stored: the first activated row stays; the others are removed and their tokens revoked.
    name: '0604_devices_id_unique',
    async up(db) {
      const later = sql`devices.device_id_index is not null and exists (select 1 from devices e where e.subject_id = devices.subject_id
        and e.device_id_index = devices.device_id_index and (e.activated_at < devices.activated_at or (e.activated_at = devices.activated_at and e.id < devices.id)))`;
      await sql`update device_tokens set revoked_at = ${new Date().toISOString()} where revoked_at is null and device_ref in (select devices.id from devices where ${later})`.execute(db);
      await sql`delete from devices where ${later}`.execute(db);
      await db.schema.dropIndex('devices_id_index').ifExists().execute();
      await db.schema.createIndex('devices_id_unique').ifNotExists().unique().on('devices').columns(['subject_id', 'device_id_index']).execute();
    },
  },
];
