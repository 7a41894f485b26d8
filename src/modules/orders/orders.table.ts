import type { ColumnType, Insertable, Selectable } from 'kysely';
import type { DeliveryStatus } from './order.js';

/**
 * One row per order (R-ACC-2). Every personal column is vault ciphertext bound to
 * (orders, field, subject, key version). There is no card number column: `card` holds the token,
 * brand and last four digits only. `legal_hold_until` is the end of the tax-law retention the policy
 * sets for invoices; the rights module keeps the order until then even when the account is erased.
 */
export interface OrdersTable {
  id: string;
  subject_id: string;
  placed_at: string;
  legal_hold_until: string;
  items: Uint8Array;
  /** Null once erased on its own after delivery (R-DSR-2, part); `delivery_erased_at` says when. */
  delivery: Uint8Array | null;
  billing_address: Uint8Array;
  bank_account: Uint8Array | null;
  card: Uint8Array | null;
  credit_check: Uint8Array | null;
  contact_records: Uint8Array | null;
  delivery_status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  delivered_at: string | null;
  delivery_erased_at: string | null;
}

export type OrderRow = Selectable<OrdersTable>;
export type NewOrderRow = Insertable<OrdersTable>;
