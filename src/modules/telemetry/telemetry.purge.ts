import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { Pseudonyms } from './pseudonyms.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * The telemetry stores keyed by the person, in name order. `telemetry_events` is not among them: its rows carry
 * only a pseudonym, which nothing can link back to the person once their links are purged.
 */
const SUBJECT_TABLES = ['access_log', 'crash_reports', 'device_tokens', 'email_opens', 'pixel_tokens'] as const;

/**
 * Account erasure's purge of the telemetry module (R-DSR-7), run after the key is shredded: the person's rows,
 * already unreadable, go from every store, each statement on its own like the rest of the purge; per table, the
 * rows removed. Idempotent; the rights module audits the purge as a whole.
 */
export async function purgeTelemetrySubject(db: Db, pseudonyms: Pseudonyms, subjectId: string): Promise<Record<string, number>> {
  const removed: Record<string, number> = {};
  for (const table of SUBJECT_TABLES) {
    const r = await db.deleteFrom(table).where('subject_id', '=', subjectId).executeTakeFirst();
    removed[table] = Number(r.numDeletedRows);
  }
  removed.telemetry_links = await pseudonyms.purgeSubject(db, subjectId);
  return removed;
}
