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

/** Live failure counts (window not yet over) of the given keys. */
export function liveFailures(db: Db, keys: readonly string[], now: string): Promise<{ key: string; failures: number; window_ends_at: string }[]> {
  return db.selectFrom('contact_accept_failures').selectAll().where('key', 'in', keys).where('window_ends_at', '>', now).execute();
}

/** One more wrong code for the key: counted in the live window, or a new window when the last one is over. */
export async function countFailure(db: Db, key: string, now: string, windowEndsAt: string): Promise<void> {
  const live = sql<boolean>`contact_accept_failures.window_ends_at > ${now}`;
  await db
    .insertInto('contact_accept_failures')
    .values({ key, failures: 1, window_ends_at: windowEndsAt })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`CASE WHEN ${live} THEN contact_accept_failures.failures + 1 ELSE 1 END`,
        window_ends_at: sql<string>`CASE WHEN ${live} THEN contact_accept_failures.window_ends_at ELSE ${windowEndsAt} END`,
      }),
    )
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
