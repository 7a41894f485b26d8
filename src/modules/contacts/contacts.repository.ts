import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ContactRow, NewContactRow } from './contacts.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertContact(db: Db, row: NewContactRow): Promise<void> {
  await db.insertInto('contacts').values(row).execute();
}

export function listForInviter(db: Db, inviterId: string): Promise<ContactRow[]> {
  return db.selectFrom('contacts').selectAll().where('inviter_subject_id', '=', inviterId).orderBy('created_at').orderBy('subject_id').execute();
}

export function byId(db: Db, inviterId: string, contactId: string): Promise<ContactRow | undefined> {
  return db.selectFrom('contacts').selectAll().where('inviter_subject_id', '=', inviterId).where('subject_id', '=', contactId).executeTakeFirst();
}

/** Whose a contact is, whoever asks: a correction of someone else's contact is declined as such (R-DSR-4). */
export function inviterOf(db: Db, contactId: string): Promise<{ inviter_subject_id: string } | undefined> {
  return db.selectFrom('contacts').select('inviter_subject_id').where('subject_id', '=', contactId).executeTakeFirst();
}

/** Re-sealed fields (and the e-mail's blind index) of one of the inviter's contacts (R-DSR-1); false when none matched. */
export async function correctContact(db: Db, inviterId: string, contactId: string, patch: Partial<Pick<ContactRow, 'name' | 'email' | 'email_index' | 'phone' | 'address'>>): Promise<boolean> {
  const r = await db.updateTable('contacts').set(patch).where('inviter_subject_id', '=', inviterId).where('subject_id', '=', contactId).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export function idsByEmailIndex(db: Db, emailIndex: string): Promise<{ subject_id: string }[]> {
  return db.selectFrom('contacts').select('subject_id').where('email_index', '=', emailIndex).execute();
}

/** Unaccepted contacts whose retention has run out (R-ACC-3), a batch at a time. */
export function expired(db: Db, now: string, limit: number): Promise<{ subject_id: string; inviter_subject_id: string }[]> {
  return db
    .selectFrom('contacts')
    .select(['subject_id', 'inviter_subject_id'])
    .where('status', '=', 'pending')
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}

export async function markAccepted(db: Db, contactId: string, at: string): Promise<boolean> {
  const r = await db.updateTable('contacts').set({ status: 'accepted', accepted_at: at }).where('subject_id', '=', contactId).where('status', '=', 'pending').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Ids of the contacts a person shared (each a vault subject of its own), for account erasure. */
export async function idsSharedBy(db: Db, inviterId: string): Promise<string[]> {
  return (await db.selectFrom('contacts').select('subject_id').where('inviter_subject_id', '=', inviterId).execute()).map((r) => r.subject_id);
}

export async function deleteContact(db: Db, contactId: string): Promise<void> {
  await db.deleteFrom('contacts').where('subject_id', '=', contactId).execute();
}

/**
 * A new code for the address. Attempts used on a code still live at `now` carry over (asking again must not buy
 * more guesses), decided in the upsert itself so that a guess counted meanwhile is not overwritten.
 */
export async function putErasureCode(db: Db, row: { email_index: string; code_hash: string; expires_at: string }, now: string): Promise<void> {
  await db
    .insertInto('contact_erasure_codes')
    .values({ ...row, attempts: 0 })
    .onConflict((oc) =>
      oc.column('email_index').doUpdateSet({
        code_hash: row.code_hash,
        expires_at: row.expires_at,
        attempts: sql<number>`CASE WHEN contact_erasure_codes.expires_at > ${now} THEN contact_erasure_codes.attempts ELSE 0 END`,
      }),
    )
    .execute();
}

/**
 * Uses up one attempt on a live code that has attempts left, and returns its hash; undefined when there is no such
 * code. One conditional increment: parallel guesses each use up an attempt (the row is locked until commit).
 */
export async function takeErasureAttempt(db: Db, emailIndex: string, now: string, maxAttempts: number): Promise<{ code_hash: string } | undefined> {
  return db
    .updateTable('contact_erasure_codes')
    .set({ attempts: sql<number>`attempts + 1` })
    .where('email_index', '=', emailIndex)
    .where('expires_at', '>', now)
    .where('attempts', '<', maxAttempts)
    .returning('code_hash')
    .executeTakeFirst();
}

export async function deleteErasureCode(db: Db, emailIndex: string): Promise<void> {
  await db.deleteFrom('contact_erasure_codes').where('email_index', '=', emailIndex).execute();
}
