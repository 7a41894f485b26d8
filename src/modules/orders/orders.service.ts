import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Vault } from '../vault/vault.service.js';
import { tokeniseCard } from './card.js';
import { normaliseIban } from './iban.js';
import { DELIVERY_STATUSES, type Delivery, type DeliveryState, type DeliveryStatus, type NewOrder, type OrderView, type PostalAddress } from './order.js';
import { ORDER_FIELDS, openOrder, orderView, sealOrder, type OrderField } from './order.codec.js';
import * as repo from './orders.repository.js';
import { keysetWalk } from '../../internal/db/keyset.js';
import type { PreparedWrite } from '../../internal/db/prepared-write.js';

export interface OrdersServiceOptions {
  readonly db: Kysely<Database>;
  readonly vault: Vault;
  readonly audit: AuditLog;
  readonly policy: CompiledPolicy;
}

const MAX_LISTED = 500;

/** An order as a legal-hold listing names it: its id and until when tax law keeps it. */
export interface OrderHold {
  readonly id: string;
  readonly legalHoldUntil: string;
}

/** What an invoice needs when an order is kept under its tax-law hold; the credit check is not (nor allowed for legal_obligation). */
const HELD_FIELDS = ['items', 'delivery', 'billing_address', 'bank_account', 'card', 'contact_records'] as const;

const buf = (v: Uint8Array | null): Buffer | null => (v === null ? null : Buffer.from(v));

/** Called inside the transaction that re-keys one order: gives the hold subject and records the hold with it. */
export interface HoldSink {
  holdSubject(trx: Transaction<Database>): Promise<string>;
  held(trx: Transaction<Database>, order: { readonly id: string; readonly until: string; readonly holdSubject: string }): Promise<void>;
}

/** What a correction of an order changes (R-DSR-1): values already checked against `order.input.ts`. */
export interface OrderCorrection {
  readonly billingAddress?: PostalAddress | undefined;
  readonly delivery?: Delivery | undefined;
}

/** The owner's subject id; only a signed-in user has orders. */
export function userSubject(ctx: ActorContext): string {
  if (ctx.actor.type !== 'user') throw errors.unauthenticated();
  return ctx.actor.id;
}

/**
 * Orders (R-ACC-2): the card number is tokenised before anything is written, every personal field is
 * sealed under the owner's key, and each order carries the tax-law retention of invoices as a legal hold.
 */
export class OrdersService {
  private readonly holdMs: number;
  constructor(private readonly o: OrdersServiceOptions) {
    const retention = o.policy.categories.get('user.behavior.purchase_history')?.retentionMs;
    if (retention === undefined) throw new Error('the policy gives purchase history no fixed retention; orders need one for their legal hold');
    this.holdMs = retention;
  }

  /** Places an order; bad card or IBAN is refused before the transaction starts, so nothing is half-written. */
  async place(ctx: ActorContext, input: NewOrder): Promise<OrderView> {
    const subjectId = userSubject(ctx);
    const card = input.card ? tokeniseCard(input.card.number) : undefined;
    const bankAccount = input.bankAccount ? { holder: input.bankAccount.holder, iban: normaliseIban(input.bankAccount.iban) } : undefined;
    const placedAt = new Date();
    const id = randomUUID();
    const legalHoldUntil = new Date(placedAt.getTime() + this.holdMs).toISOString();
    const { card: _number, ...rest } = input;
    const clean = { ...rest, bankAccount };
    await this.o.db.transaction().execute(async (trx) => {
      const sealed = await sealOrder(this.o.vault, trx, subjectId, clean, card);
      await repo.insertOrder(trx, { id, subject_id: subjectId, placed_at: placedAt.toISOString(), legal_hold_until: legalHoldUntil, ...sealed, items: sealed.items!, delivery: sealed.delivery!, billing_address: sealed.billing_address! });
      await this.o.audit.append(trx, ctx, {
        action: 'orders.placed',
        subjectId,
        target: `order:${id}`,
        purpose: 'process_orders',
        details: { fields: ORDER_FIELDS.filter((f) => sealed[f] !== null), items: input.items.length, legalHoldUntil },
      });
    });
    // The owner's view is built from what was just sealed: no read-back, no second decryption.
    return orderView(
      { id, placed_at: placedAt.toISOString(), legal_hold_until: legalHoldUntil, delivery_status: 'pending', delivered_at: null, delivery_erased_at: null },
      {
        items: { currency: input.currency, items: input.items },
        delivery: input.delivery,
        billingAddress: input.billingAddress,
        bankAccount: bankAccount ?? null,
        card: card ?? null,
        creditCheck: input.creditCheck ?? null,
        contactRecords: input.contactRecords ?? null,
      },
    );
  }

  /** The owner's own orders (right of access), newest first. */
  async list(ctx: ActorContext): Promise<OrderView[]> {
    const subjectId = userSubject(ctx);
    const rows = await repo.listForSubject(this.o.db, subjectId, MAX_LISTED);
    const out: OrderView[] = [];
    for (const row of rows) out.push(await openOrder(this.o.vault, this.o.db, row, 'subject_rights'));
    return out;
  }

  /**
   * Every one of the owner's orders, newest first, for the rights export and `GET /v1/me/data` (R-DSR-1, R-DSR-6):
   * opened like `list` (purpose `subject_rights`) but without its cap, read in keyset pages of `pageSize` so that
   * one page is in memory at a time however many orders the person has.
   */
  async *everyOrder(ctx: ActorContext, pageSize: number): AsyncGenerator<OrderView> {
    const subjectId = userSubject(ctx);
    for await (const row of keysetWalk((from) => repo.pageForSubject(this.o.db, subjectId, from, pageSize), pageSize, orderCursor)) {
      yield await openOrder(this.o.vault, this.o.db, row, 'subject_rights');
    }
  }

  /** Every one of the owner's orders with the end of its tax-law hold, paged like `everyOrder`; ids and dates only, nothing is opened. */
  async *holds(ctx: ActorContext, pageSize: number): AsyncGenerator<OrderHold> {
    const subjectId = userSubject(ctx);
    for await (const row of keysetWalk((from) => repo.holdPageForSubject(this.o.db, subjectId, from, pageSize), pageSize, orderCursor)) {
      yield { id: row.id, legalHoldUntil: row.legal_hold_until };
    }
  }

  /**
   * One field of one order for one purpose, for the services that process orders (payment, fraud checks,
   * tax records). The decision gate decides: a bank account opens for process_orders but not for advertising;
   * a credit check opens for security_fraud but not for process_orders. Every read is audited.
   */
  async readField(ctx: ActorContext, orderId: string, field: OrderField, purpose: string): Promise<string | null> {
    const row = await repo.byIdAnySubject(this.o.db, orderId);
    if (!row) throw errors.notFound('The order');
    const value = row[field];
    const plain = value === null ? null : await this.o.vault.decrypt(this.o.db, row.subject_id, 'orders', field, Buffer.from(value), purpose);
    await this.o.audit.append(this.o.db, { ...ctx, purpose }, { action: 'orders.field_read', subjectId: row.subject_id, target: `order:${orderId}`, purpose, details: { field } });
    return plain;
  }

  /**
   * Staff record where a delivery stands (admin API). The status only moves forward; `delivered` stamps the time
   * (given by the carrier, else now). Repeating the current status changes nothing.
   */
  async setDeliveryStatus(ctx: ActorContext, orderId: string, status: DeliveryStatus, deliveredAt?: string): Promise<DeliveryState> {
    return this.o.db.transaction().execute(async (trx) => {
      const row = await repo.byIdAnySubject(trx, orderId);
      if (!row) throw errors.notFound('The order');
      const from = DELIVERY_STATUSES.indexOf(row.delivery_status);
      const to = DELIVERY_STATUSES.indexOf(status);
      if (to < from) throw errors.conflict(`The order is already ${row.delivery_status}; a delivery status only moves forward`);
      if (to === from) return { id: row.id, deliveryStatus: row.delivery_status, deliveredAt: row.delivered_at };
      // Date.parse also refuses what the format check lets through (a leap second, 23:59:60): NaN is not a time.
      if (deliveredAt !== undefined && (status !== 'delivered' || !(Date.parse(deliveredAt) <= Date.now()))) {
        throw errors.validation('deliveredAt goes with status delivered, must be a real time and cannot lie in the future', { field: 'deliveredAt' });
      }
      const at = status === 'delivered' ? new Date(deliveredAt ?? Date.now()).toISOString() : null;
      // Conditional on the status read: two staff updates at once cannot move it backwards.
      if (!(await repo.setDeliveryState(trx, orderId, row.delivery_status, { delivery_status: status, delivered_at: at }))) {
        throw errors.conflict('The delivery status changed meanwhile; read the order again');
      }
      await this.o.audit.append(trx, ctx, { action: 'orders.delivery_status', subjectId: row.subject_id, target: `order:${orderId}`, purpose: 'process_orders', details: { from: row.delivery_status, to: status } });
      return { id: orderId, deliveryStatus: status, deliveredAt: at };
    });
  }

  /**
   * Whether the person may have this order's delivery details erased now (R-DSR-2, part): another person's order
   * is "not found"; before delivery the address is still needed to perform the contract, so the answer is
   * ORDER_NOT_DELIVERED (409) rather than a decline the person could not act on.
   */
  async deliveryErasable(subjectId: string, orderId: string): Promise<'ok' | 'not_found'> {
    const row = await repo.byId(this.o.db, subjectId, orderId);
    if (!row) return 'not_found';
    if (row.delivery_status !== 'delivered') throw notDelivered(row.delivery_status);
    return 'ok';
  }

  /**
   * Erases the delivery details of a delivered order (address, phone, instructions: one ciphertext). What the
   * invoice needs (items, billing address, payment) stays under the order's tax-law hold. Idempotent.
   */
  async eraseDelivery(ctx: ActorContext, subjectId: string, orderId: string): Promise<void> {
    await this.o.db.transaction().execute(async (trx) => {
      const row = await repo.byId(trx, subjectId, orderId);
      if (!row) throw errors.notFound('The order');
      if (row.delivery_status !== 'delivered') throw notDelivered(row.delivery_status);
      if (row.delivery === null) return;
      await repo.clearDelivery(trx, subjectId, orderId, new Date().toISOString());
      await this.o.audit.append(trx, ctx, { action: 'orders.delivery_erased', subjectId, target: `order:${orderId}`, purpose: 'subject_rights', details: { field: 'delivery' } });
    });
  }

  /**
   * Whose order this is, for the screening of a correction (R-DSR-4): the person's own, someone else's (the
   * request is declined OTHERS_PRIVACY), or none at all. Ids only, nothing is opened.
   */
  async ownership(subjectId: string, orderId: string): Promise<'ok' | 'not_found' | 'not_yours'> {
    const row = await repo.byIdAnySubject(this.o.db, orderId);
    return !row ? 'not_found' : row.subject_id === subjectId ? 'ok' : 'not_yours';
  }

  /**
   * R-DSR-1: prepares the correction of one of the person's orders: the billing address at any time, the delivery
   * details only before delivery (ORDER_DELIVERED after: they were used and are kept as they were). The values are
   * shaped by `order.input.ts` already; nothing is read inside the caller's transaction but the row it updates,
   * which must still be the person's (and undelivered) when it is written. Audited with field names only.
   */
  async prepareCorrection(subjectId: string, orderId: string, c: OrderCorrection): Promise<PreparedWrite> {
    const row = await repo.byId(this.o.db, subjectId, orderId);
    if (!row) throw errors.notFound('The order');
    const touchesDelivery = c.delivery !== undefined;
    if (touchesDelivery && row.delivery_status === 'delivered') throw delivered();
    // Only the fields given: a key with no value would be sealed as NULL and erase the stored one.
    const values: Record<string, string> = {};
    if (c.billingAddress !== undefined) values.billing_address = JSON.stringify(c.billingAddress);
    if (c.delivery !== undefined) values.delivery = JSON.stringify(c.delivery);
    const fields = Object.keys(values) as OrderField[];
    return {
      fields,
      write: async (trx, ctx) => {
        const sealed = await this.o.vault.encryptFields(trx, subjectId, 'orders', values);
        // Conditional: staff may have marked the order delivered since it was read.
        if (!(await repo.correct(trx, subjectId, orderId, sealed as Partial<Record<'billing_address' | 'delivery', Buffer>>, touchesDelivery))) {
          throw touchesDelivery ? delivered() : errors.notFound('The order');
        }
        await this.o.audit.append(trx, ctx, { action: 'orders.corrected', subjectId, target: `order:${orderId}`, purpose: 'subject_rights', details: { fields } });
      },
    };
  }

  /**
   * Account erasure, before the person's key is shredded (R-DSR-2): each order still inside its tax-law hold is
   * opened for `legal_obligation` and re-sealed under the hold subject `sink` gives, keeping its id. One
   * transaction per order, the hold record included: a crash leaves each order fully re-keyed or untouched.
   * Returns how many orders were moved by this call (a re-run moves only the rest).
   */
  async reencryptForHold(subjectId: string, now: string, sink: HoldSink): Promise<number> {
    const { db, vault } = this.o;
    let held = 0;
    for (const id of await repo.underHold(db, subjectId, now)) {
      // Decrypted before the transaction: the decision gate may read the store, and on SQLite the transaction
      // holds the only connection. The row is read again inside and must be unchanged (same ciphertext).
      const before = await repo.byId(db, subjectId, id);
      if (!before) continue;
      const plain = await vault.decryptFields(db, subjectId, 'orders', Object.fromEntries(HELD_FIELDS.map((f) => [f, buf(before[f])])) as Record<(typeof HELD_FIELDS)[number], Buffer | null>, 'legal_obligation');
      await db.transaction().execute(async (trx) => {
        const row = await repo.byId(trx, subjectId, id);
        if (!row || !Buffer.from(row.items).equals(Buffer.from(before.items))) return; // re-keyed or changed meanwhile: the next run takes it
        const holdSubject = await sink.holdSubject(trx);
        const sealed = await vault.encryptFields(trx, holdSubject, 'orders', plain);
        // items and billing address are NOT NULL columns, so they are always present in `sealed`.
        await repo.rekey(trx, id, subjectId, { subject_id: holdSubject, items: sealed.items!, delivery: sealed.delivery, billing_address: sealed.billing_address!, bank_account: sealed.bank_account, card: sealed.card, contact_records: sealed.contact_records, credit_check: null });
        // The sink records and audits the hold (the rights module's record), in this same transaction.
        await sink.held(trx, { id, until: row.legal_hold_until, holdSubject });
        held++;
      });
    }
    return held;
  }

  /** Physical purge after crypto-shredding: the person's remaining orders (held ones belong to the hold subject now). */
  deleteAllFor(db: Kysely<Database> | Transaction<Database>, subjectId: string): Promise<number> {
    return repo.deleteAllFor(db, subjectId);
  }
}

/** Where an owner's orders walk stands after a row (newest first, ties by id). */
const orderCursor = (row: { readonly id: string; readonly placed_at: string }): repo.OrderCursor => ({ placedAt: row.placed_at, id: row.id });

const delivered = (): AppError => new AppError('ORDER_DELIVERED', 'The order has been delivered: its delivery details are kept as they were used and can no longer be corrected');

const notDelivered = (status: DeliveryStatus): AppError =>
  new AppError('ORDER_NOT_DELIVERED', 'The delivery details can be erased once the order is delivered; until then they are needed to deliver it', { deliveryStatus: status });
