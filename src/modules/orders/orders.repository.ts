import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { NewOrderRow, OrderRow } from './orders.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertOrder(db: Db, row: NewOrderRow): Promise<void> {
  await db.insertInto('orders').values(row).execute();
}

/** An owner's orders, newest first; always scoped by subject so nobody reads another's orders. */
export function listForSubject(db: Db, subjectId: string, limit: number): Promise<OrderRow[]> {
  return db.selectFrom('orders').selectAll().where('subject_id', '=', subjectId).orderBy('placed_at', 'desc').orderBy('id').limit(limit).execute();
}

export function byId(db: Db, subjectId: string, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('subject_id', '=', subjectId).where('id', '=', id).executeTakeFirst();
}

export function byIdAnySubject(db: Db, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
}
