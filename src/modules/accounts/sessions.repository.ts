import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { SessionRow, SessionsTable, ThrottleRow } from './accounts.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertSession(db: Db, row: SessionsTable): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

/** A live session by token hash; expired ones are not found (and are swept by `deleteExpired`). */
export function findLive(db: Db, tokenHash: string, now: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).where('expires_at', '>', now).executeTakeFirst();
}

export function findById(db: Db, id: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

/** Revokes every session of a subject except `keep` (after a password change). Returns how many. */
export async function deleteOthers(db: Db, subjectId: string, keep: string | undefined): Promise<number> {
  let q = db.deleteFrom('sessions').where('subject_id', '=', subjectId);
  if (keep !== undefined) q = q.where('id', '!=', keep);
  const r = await q.executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Every session of a subject (account erasure). Returns how many. */
export async function deleteAllFor(db: Db, subjectId: string): Promise<number> {
  return Number((await db.deleteFrom('sessions').where('subject_id', '=', subjectId).executeTakeFirst()).numDeletedRows);
}

export async function deleteExpired(db: Db, now: string): Promise<number> {
  const r = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * Uses up one step-up code attempt of a session whose code is live and has attempts left, returning the sealed
 * code; undefined otherwise. One conditional increment (the row is locked until commit): parallel guesses each
 * use up an attempt, where reading the count and writing it back let them all pass.
 */
export async function takeStepUpAttempt(db: Db, id: string, now: string, maxAttempts: number): Promise<{ step_up_code: Buffer } | undefined> {
  const row = await db
    .updateTable('sessions')
    .set({ step_up_attempts: sql<number>`step_up_attempts + 1` })
    .where('id', '=', id)
    .where('step_up_code', 'is not', null)
    .where('step_up_code_expires_at', '>', now)
    .where('step_up_attempts', '<', maxAttempts)
    .returning('step_up_code')
    .executeTakeFirst();
  return row?.step_up_code ? { step_up_code: row.step_up_code } : undefined;
}

export async function updateSession(db: Db, id: string, changes: Partial<Omit<SessionsTable, 'id' | 'subject_id' | 'token_hash'>>): Promise<void> {
  await db.updateTable('sessions').set(changes).where('id', '=', id).execute();
}

export function findThrottle(db: Db, key: string): Promise<ThrottleRow | undefined> {
  return db.selectFrom('sign_in_throttle').selectAll().where('key', '=', key).executeTakeFirst();
}

export async function saveThrottle(db: Db, row: ThrottleRow): Promise<void> {
  await db
    .insertInto('sign_in_throttle')
    .values(row)
    .onConflict((oc) => oc.column('key').doUpdateSet({ failures: row.failures, last_failure_at: row.last_failure_at, locked_until: row.locked_until }))
    .execute();
}

export async function clearThrottle(db: Db, key: string): Promise<void> {
  await db.deleteFrom('sign_in_throttle').where('key', '=', key).execute();
}
