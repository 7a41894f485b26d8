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
];
