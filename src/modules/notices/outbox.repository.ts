import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { NewOutboxRow, OutboxRow, OutboxStatus } from './outbox.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertMessage(db: Db, row: NewOutboxRow): Promise<void> {
  await db.insertInto('outbox').values(row).execute();
}

/** Due messages: pending ones whose time has come, and `sending` ones whose worker's lease ran out (it crashed). */
export function dueMessages(db: Db, now: string, limit: number): Promise<OutboxRow[]> {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where('status', 'in', ['pending', 'sending'])
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
}

/**
 * Claims a message for one worker until `leaseUntil`: only the worker whose update matched sends it,
 * so a server and a CLI process running side by side never send the same message twice.
 */
export async function claim(db: Db, row: Pick<OutboxRow, 'id' | 'next_attempt_at'>, leaseUntil: string): Promise<boolean> {
  const r = await db
    .updateTable('outbox')
    .set({ status: 'sending', next_attempt_at: leaseUntil })
    .where('id', '=', row.id)
    .where('status', 'in', ['pending', 'sending'])
    .where('next_attempt_at', '=', row.next_attempt_at)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function finish(db: Db, id: string, status: OutboxStatus, changes: { attempts: number; lastError: string | null; nextAttemptAt?: string; sentAt?: string }): Promise<void> {
  await db
    .updateTable('outbox')
    .set({
      status,
      attempts: changes.attempts,
      last_error: changes.lastError,
      ...(changes.nextAttemptAt ? { next_attempt_at: changes.nextAttemptAt } : {}),
      ...(changes.sentAt ? { sent_at: changes.sentAt } : {}),
    })
    .where('id', '=', id)
    .execute();
}

export function byId(db: Db, id: string): Promise<OutboxRow | undefined> {
  return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
}

/** R-DSR-7 physical purge after crypto-shredding: every message of the subject, whatever its status. */
export async function purgeSubject(db: Db, subjectId: string): Promise<number> {
  const r = await db.deleteFrom('outbox').where('subject_id', '=', subjectId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * The retention sweep: messages delivered before `cutoff`, and messages given up (`failed`) that were queued before
 * it. `pending` and `sending` messages are never selected, however old: they are still owed to someone.
 */
export async function purgeFinishedBefore(db: Db, cutoff: string): Promise<number> {
  const r = await db
    .deleteFrom('outbox')
    .where((eb) => eb.or([eb.and([eb('status', '=', 'sent'), eb('sent_at', '<', cutoff)]), eb.and([eb('status', '=', 'failed'), eb('created_at', '<', cutoff)])]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Messages of these kinds queued for the subject since `since` and not given up (sent, or still on their way). */
export async function countKindsSince(db: Db, subjectId: string, kinds: readonly string[], since: string): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('subject_id', '=', subjectId)
    .where('kind', 'in', kinds)
    .where('created_at', '>=', since)
    .where('status', '!=', 'failed')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
