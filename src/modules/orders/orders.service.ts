import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { errors } from '../../internal/errors/app-error.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Vault } from '../vault/vault.service.js';
import { tokeniseCard } from './card.js';
import { normaliseIban } from './iban.js';
import type { NewOrder, OrderView } from './order.js';
import { ORDER_FIELDS, openOrder, orderView, sealOrder, type OrderField } from './order.codec.js';
import * as repo from './orders.repository.js';

export interface OrdersServiceOptions {
  readonly db: Kysely<Database>;
  readonly vault: Vault;
  readonly audit: AuditLog;
  readonly policy: CompiledPolicy;
}

const MAX_LISTED = 500;

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
      { id, placed_at: placedAt.toISOString(), legal_hold_until: legalHoldUntil },
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
}
