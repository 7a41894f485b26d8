import type { Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import type { RightsDeps } from './rights.deps.js';
import * as repo from './rights.repository.js';

export const HOLD_REASON = 'tax_law_invoice_retention';

/**
 * R-DSR-2: before the person's key is shredded, each order still under its tax-law hold is re-encrypted under a
 * hold key: a vault subject of its own, restricted, so the decision engine opens it only for legal obligations.
 * The orders module re-keys each order (keeping its id, so tax records still find it); this module gives the hold
 * subject and records the person's link to the order in `rights_legal_holds`, in the same transaction per order,
 * so it can be listed to them with reason and end date.
 */
export async function holdOrders(deps: RightsDeps, ctx: ActorContext, subjectId: string, now: string): Promise<number> {
  // Without the orders module wired nothing touches its table: the purge leaves `orders` alone too.
  if (!deps.orders) return 0;
  return deps.orders.reencryptForHold(subjectId, now, {
    holdSubject: (trx) => holdSubjectOf(trx, deps, ctx, subjectId),
    held: async (trx, order) => {
      await repo.addHold(trx, { subject_id: subjectId, record_type: 'order', record_id: order.id, hold_subject_id: order.holdSubject, reason: HOLD_REASON, until: order.until });
      await deps.audit.append(trx, ctx, { action: 'rights.record_held', subjectId, target: `order:${order.id}`, purpose: 'legal_obligation', details: { until: order.until, reason: HOLD_REASON } });
    },
  });
}

/** One hold subject per erased person, created with the first held record (same transaction, so never orphaned). */
async function holdSubjectOf(trx: Transaction<Database>, deps: RightsDeps, ctx: ActorContext, subjectId: string): Promise<string> {
  const existing = (await repo.holdsOf(trx, subjectId))[0];
  if (existing) return existing.hold_subject_id;
  // The vault knows accounts and contacts; a hold key is an account-like subject that only legal obligations may open.
  const hold = await deps.vault.createSubject(trx, ctx, 'account');
  if (!deps.subjectStatus) throw new Error('legal holds need the subject status service to restrict the hold key');
  await deps.subjectStatus.setRestricted(trx, ctx, hold, true, 'legal_hold');
  return hold;
}
