import { sql } from 'kysely';
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
  {
    // Delivery state (R-DSR-2, part): once an order is delivered its delivery details may be erased on their own,
    // so `delivery` becomes nullable. SQLite cannot drop NOT NULL in place: the table is rebuilt (same transaction).
    name: '0401_orders_delivery_state',
    async up(db, kind) {
      if (kind === 'postgres') {
        await sql`ALTER TABLE orders ALTER COLUMN delivery DROP NOT NULL`.execute(db);
        await sql`ALTER TABLE orders ADD COLUMN delivery_status text NOT NULL DEFAULT 'pending' CHECK (delivery_status IN ('pending', 'shipped', 'delivered'))`.execute(db);
        await sql`ALTER TABLE orders ADD COLUMN delivered_at text`.execute(db);
        await sql`ALTER TABLE orders ADD COLUMN delivery_erased_at text`.execute(db);
        return;
      }
      const cols = 'id, subject_id, placed_at, legal_hold_until, items, delivery, billing_address, bank_account, card, credit_check, contact_records';
      await sql`CREATE TABLE orders_next (
        id text PRIMARY KEY, subject_id text NOT NULL, placed_at text NOT NULL, legal_hold_until text NOT NULL,
        items blob NOT NULL, delivery blob, billing_address blob NOT NULL, bank_account blob, card blob, credit_check blob, contact_records blob,
        delivery_status text NOT NULL DEFAULT 'pending' CHECK (delivery_status IN ('pending', 'shipped', 'delivered')),
        delivered_at text, delivery_erased_at text)`.execute(db);
      await sql.raw(`INSERT INTO orders_next (${cols}) SELECT ${cols} FROM orders`).execute(db);
      await sql`DROP TABLE orders`.execute(db);
      await sql`ALTER TABLE orders_next RENAME TO orders`.execute(db);
      await db.schema.createIndex('orders_subject').ifNotExists().on('orders').columns(['subject_id', 'placed_at']).execute();
    },
  },
];
