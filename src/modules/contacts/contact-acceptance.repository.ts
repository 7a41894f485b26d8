import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ContactRow } from './contacts.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export function byCodeHash(db: Db, codeHash: string): Promise<ContactRow | undefined> {
  return db.selectFrom('contacts').selectAll().where('accept_code_hash', '=', codeHash).executeTakeFirst();
}

/** Accepts a pending contact and burns its code; false when it was no longer pending (a concurrent accept). */
export async function accept(db: Db, contactId: string, acceptorId: string, at: string): Promise<boolean> {
  const r = await db
    .updateTable('contacts')
    .set({ status: 'accepted', accepted_at: at, accepted_by_subject_id: acceptorId, accept_code_hash: null })
    .where('subject_id', '=', contactId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * One more attempt for the key, counted in the live window (or a new window when the last one is over), with the
 * count after it. The upsert locks the key's row until the transaction ends, so concurrent attempts are counted
 * one after the other and each sees the others' counts.
 */
export async function countAttempt(db: Db, key: string, now: string, windowEndsAt: string): Promise<{ failures: number; window_ends_at: string }> {
  const live = sql<boolean>`contact_accept_failures.window_ends_at > ${now}`;
  const row = await db
    .insertInto('contact_accept_failures')
    .values({ key, failures: 1, window_ends_at: windowEndsAt })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`CASE WHEN ${live} THEN contact_accept_failures.failures + 1 ELSE 1 END`,
        window_ends_at: sql<string>`CASE WHEN ${live} THEN contact_accept_failures.window_ends_at ELSE ${windowEndsAt} END`,
      }),
    )
    .returning(['failures', 'window_ends_at'])
    .executeTakeFirstOrThrow();
  return { failures: Number(row.failures), window_ends_at: row.window_ends_at };
}

/** Takes back an attempt counted by `countAttempt` that turned out not to be a wrong code. */
export async function uncountAttempt(db: Db, key: string): Promise<void> {
  await db
    .updateTable('contact_accept_failures')
    .set({ failures: sql<number>`CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END` })
    .where('key', '=', key)
    .execute();
}

export async function clearFailures(db: Db, key: string): Promise<void> {
  await db.deleteFrom('contact_accept_failures').where('key', '=', key).execute();
}

/** Windows that are over slow nobody down: removed by the retention sweep. */
export async function deleteStaleFailures(db: Db, now: string): Promise<number> {
  const r = await db.deleteFrom('contact_accept_failures').where('window_ends_at', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
