import type { PledgeMigration } from '../../internal/db/migration.js';
import { columnTypes } from '../../internal/db/columns.js';

// No foreign key to accounts: an order outlives an erased account while its legal hold runs (R-DSR-2).
export const ordersMigrations: PledgeMigration[] = [
  {
    name: '0400_orders',
    async up(db, kind) {
      const t = columnTypes(kind);
      await db.schema
        .createTable('orders')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('placed_at', 'text', (c) => c.notNull())
        .addColumn('legal_hold_until', 'text', (c) => c.notNull())
        .addColumn('items', t.bytes, (c) => c.notNull())
        .addColumn('delivery', t.bytes, (c) => c.notNull())
        .addColumn('billing_address', t.bytes, (c) => c.notNull())
        .addColumn('bank_account', t.bytes)
        .addColumn('card', t.bytes)
        .addColumn('credit_check', t.bytes)
        .addColumn('contact_records', t.bytes)
        .execute();
      await db.schema.createIndex('orders_subject').ifNotExists().on('orders').columns(['subject_id', 'placed_at']).execute();
    },
  },
];
