import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { Vault } from '../vault/vault.service.js';
import type { CardToken } from './card.js';
import { maskIban } from './iban.js';
import type { BankAccount, CardOnOrder, ContactRecord, CreditCheck, Delivery, NewOrder, OrderItem, OrderView, PostalAddress } from './order.js';
import type { OrderRow } from './orders.table.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The sealed columns of `orders`, each declared in the policy's `fields:` (R-CLS-1). */
export const ORDER_FIELDS = ['items', 'delivery', 'billing_address', 'bank_account', 'card', 'credit_check', 'contact_records'] as const;
export type OrderField = (typeof ORDER_FIELDS)[number];

export interface ItemsDoc {
  readonly currency: string;
  readonly items: readonly OrderItem[];
}

const json = (v: unknown): string => JSON.stringify(v);

/** Seals an order's fields under the owner's key; the card is already a token here. */
export async function sealOrder(
  vault: Vault,
  db: Db,
  subjectId: string,
  input: Omit<NewOrder, 'card'>,
  card: CardToken | undefined,
): Promise<Record<OrderField, Buffer | null>> {
  const items: ItemsDoc = { currency: input.currency, items: input.items };
  return vault.encryptFields(db, subjectId, 'orders', {
    items: json(items),
    delivery: json(input.delivery),
    billing_address: json(input.billingAddress),
    bank_account: input.bankAccount ? json(input.bankAccount) : null,
    card: card ? json({ token: card.token, brand: card.brand, last4: card.last4 }) : null,
    credit_check: input.creditCheck ? json(input.creditCheck) : null,
    contact_records: input.contactRecords && input.contactRecords.length > 0 ? json(input.contactRecords) : null,
  });
}

const buf = (v: Uint8Array | null): Buffer | null => (v === null ? null : Buffer.from(v));
const parse = <T>(v: string | null): T | null => (v === null ? null : (JSON.parse(v) as T));

/** Opens an order for one purpose (the decision gate checks every category) and shapes it for its owner. */
export async function openOrder(vault: Vault, db: Db, row: OrderRow, purpose: string): Promise<OrderView> {
  const f = await vault.decryptFields(
    db,
    row.subject_id,
    'orders',
    {
      items: buf(row.items),
      delivery: buf(row.delivery),
      billing_address: buf(row.billing_address),
      bank_account: buf(row.bank_account),
      card: buf(row.card),
      credit_check: buf(row.credit_check),
      contact_records: buf(row.contact_records),
    },
    purpose,
  );
  return orderView(row, {
    items: parse<ItemsDoc>(f.items)!,
    delivery: parse<Delivery>(f.delivery),
    billingAddress: parse<PostalAddress>(f.billing_address)!,
    bankAccount: parse<BankAccount>(f.bank_account),
    card: parse<CardOnOrder>(f.card),
    creditCheck: parse<CreditCheck>(f.credit_check),
    contactRecords: parse<ContactRecord[]>(f.contact_records),
  });
}

export interface OrderDocs {
  readonly items: ItemsDoc;
  readonly delivery: Delivery | null;
  readonly billingAddress: PostalAddress;
  readonly bankAccount: BankAccount | null;
  readonly card: CardOnOrder | null;
  readonly creditCheck: CreditCheck | null;
  readonly contactRecords: readonly ContactRecord[] | null;
}

/** Shapes an order for its owner from its opened documents. */
export function orderView(row: Pick<OrderRow, 'id' | 'placed_at' | 'legal_hold_until' | 'delivery_status' | 'delivered_at' | 'delivery_erased_at'>, d: OrderDocs): OrderView {
  return {
    id: row.id,
    placedAt: row.placed_at,
    legalHoldUntil: row.legal_hold_until,
    currency: d.items.currency,
    items: d.items.items,
    totalCents: d.items.items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0),
    deliveryStatus: row.delivery_status,
    deliveredAt: row.delivered_at,
    delivery: d.delivery,
    deliveryErasedAt: row.delivery_erased_at,
    billingAddress: d.billingAddress,
    // Routine listings show the account masked; the full number is for payment and the rights export.
    bankAccount: d.bankAccount ? { holder: d.bankAccount.holder, iban: maskIban(d.bankAccount.iban) } : null,
    card: d.card,
    creditCheck: d.creditCheck,
    contactRecords: d.contactRecords ?? [],
  };
}
