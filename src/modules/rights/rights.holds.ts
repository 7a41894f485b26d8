import type { Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import type { RightsDeps } from './rights.deps.js';
import * as repo from './rights.repository.js';

/** Order fields kept under a legal hold: what an invoice needs. The credit check is not (and is not allowed for legal_obligation). */
const HELD_FIELDS = ['items', 'delivery', 'billing_address', 'bank_account', 'card', 'contact_records'] as const;
export const HOLD_REASON = 'tax_law_invoice_retention';

const buf = (v: Uint8Array | null): Buffer | null => (v === null ? null : Buffer.from(v));

/**
 * R-DSR-2: before the person's key is shredded, each order still under its tax-law hold is re-encrypted under a
 * hold key: a vault subject of its own, restricted, so the decision engine opens it only for legal obligations.
 * The order row keeps its id (tax records still find it) and moves to the hold subject; the person's link to it
 * is kept in `rights_legal_holds` so it can be listed to them with reason and end date.
 *
 * The orders module has no re-key operation yet, so this step updates the `orders` row itself (ciphertext and
 * subject only), in one transaction per order: a crash leaves each order either fully re-keyed or untouched.
 */
export async function holdOrders(deps: RightsDeps, ctx: ActorContext, subjectId: string, now: string): Promise<number> {
  const { db, vault } = deps;
  const due = await db.selectFrom('orders').select(['id', 'legal_hold_until']).where('subject_id', '=', subjectId).where('legal_hold_until', '>', now).execute();
  let held = 0;
  for (const { id } of due) {
    // Decrypted before the transaction: the decision gate may read the store, and on SQLite the transaction
    // holds the only connection. The row is read again inside and must be unchanged (same ciphertext).
    const before = await db.selectFrom('orders').selectAll().where('id', '=', id).where('subject_id', '=', subjectId).executeTakeFirst();
    if (!before) continue; // re-keyed by an earlier run
    const plain = await vault.decryptFields(db, subjectId, 'orders', Object.fromEntries(HELD_FIELDS.map((f) => [f, buf(before[f])])) as Record<(typeof HELD_FIELDS)[number], Buffer | null>, 'legal_obligation');
    await db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('orders').selectAll().where('id', '=', id).where('subject_id', '=', subjectId).executeTakeFirst();
      if (!row || !Buffer.from(row.items).equals(Buffer.from(before.items))) return; // re-keyed or changed meanwhile: the next run takes it
      const holdSubject = await holdSubjectOf(trx, deps, ctx, subjectId);
      const sealed = await vault.encryptFields(trx, holdSubject, 'orders', plain);
      // items, delivery and billing address are NOT NULL columns, so they are always present in `sealed`.
      await trx
        .updateTable('orders')
        .set({ items: sealed.items!, delivery: sealed.delivery!, billing_address: sealed.billing_address!, bank_account: sealed.bank_account, card: sealed.card, contact_records: sealed.contact_records, credit_check: null, subject_id: holdSubject })
        .where('id', '=', id)
        .execute();
      await repo.addHold(trx, { subject_id: subjectId, record_type: 'order', record_id: id, hold_subject_id: holdSubject, reason: HOLD_REASON, until: row.legal_hold_until });
      await deps.audit.append(trx, ctx, { action: 'rights.record_held', subjectId, target: `order:${id}`, purpose: 'legal_obligation', details: { until: row.legal_hold_until, reason: HOLD_REASON } });
      held++;
    });
  }
  return held;
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
