import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
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

/** Where a keyset walk of an owner's orders stands: the last row read (newest first, ties by id). */
export interface OrderCursor {
  readonly placedAt: string;
  readonly id: string;
}

/** Rows after the cursor in the walk's order (`placed_at` descending, then `id` ascending), for the index `orders_subject`. */
const after = (c: OrderCursor) => (eb: ExpressionBuilder<Database, 'orders'>) =>
  eb.or([eb('placed_at', '<', c.placedAt), eb.and([eb('placed_at', '=', c.placedAt), eb('id', '>', c.id)])]);

/** One page of an owner's orders after `from` (keyset: no offset, so a page costs the same however deep the walk). */
export function pageForSubject(db: Db, subjectId: string, from: OrderCursor | undefined, limit: number): Promise<OrderRow[]> {
  let q = db.selectFrom('orders').selectAll().where('subject_id', '=', subjectId);
  if (from) q = q.where(after(from));
  return q.orderBy('placed_at', 'desc').orderBy('id').limit(limit).execute();
}

/** Like `pageForSubject`, but only what a legal-hold listing needs: no ciphertext is read. */
export function holdPageForSubject(db: Db, subjectId: string, from: OrderCursor | undefined, limit: number): Promise<Pick<OrderRow, 'id' | 'placed_at' | 'legal_hold_until'>[]> {
  let q = db.selectFrom('orders').select(['id', 'placed_at', 'legal_hold_until']).where('subject_id', '=', subjectId);
  if (from) q = q.where(after(from));
  return q.orderBy('placed_at', 'desc').orderBy('id').limit(limit).execute();
}

export function byId(db: Db, subjectId: string, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('subject_id', '=', subjectId).where('id', '=', id).executeTakeFirst();
}

export function byIdAnySubject(db: Db, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Moves the delivery state on from `seen` only: false when another change came first (the caller reads again). */
export async function setDeliveryState(db: Db, id: string, seen: OrderRow['delivery_status'], state: Pick<OrderRow, 'delivery_status' | 'delivered_at'>): Promise<boolean> {
  const r = await db.updateTable('orders').set(state).where('id', '=', id).where('delivery_status', '=', seen).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Removes the delivery details' ciphertext of one of the owner's orders; the invoice fields stay. */
export async function clearDelivery(db: Db, subjectId: string, id: string, at: string): Promise<void> {
  await db.updateTable('orders').set({ delivery: null, delivery_erased_at: at }).where('subject_id', '=', subjectId).where('id', '=', id).execute();
}

/**
 * Re-sealed billing address and/or delivery details of one of the owner's orders (R-DSR-1 correction). With
 * `undelivered`, only while the order is not delivered yet; false when no row matched (the caller says why).
 */
export async function correct(db: Db, subjectId: string, id: string, sealed: Partial<Pick<OrderRow, 'billing_address' | 'delivery'>>, undelivered: boolean): Promise<boolean> {
  let q = db.updateTable('orders').set(sealed).where('subject_id', '=', subjectId).where('id', '=', id);
  if (undelivered) q = q.where('delivery_status', '!=', 'delivered');
  return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
}

/** Ids of the owner's orders whose tax-law hold runs past `now`. */
export async function underHold(db: Db, subjectId: string, now: string): Promise<string[]> {
  return (await db.selectFrom('orders').select('id').where('subject_id', '=', subjectId).where('legal_hold_until', '>', now).execute()).map((r) => r.id);
}

/** Moves an order to another vault subject with its fields re-sealed under that subject's key. */
export async function rekey(db: Db, id: string, fromSubject: string, patch: Pick<OrderRow, 'subject_id' | 'items' | 'delivery' | 'billing_address' | 'bank_account' | 'card' | 'credit_check' | 'contact_records'>): Promise<void> {
  await db.updateTable('orders').set(patch).where('id', '=', id).where('subject_id', '=', fromSubject).execute();
}

export async function deleteAllFor(db: Db, subjectId: string): Promise<number> {
  return Number((await db.deleteFrom('orders').where('subject_id', '=', subjectId).executeTakeFirst()).numDeletedRows);
}
