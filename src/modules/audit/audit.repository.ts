import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import { actorLabel } from '../../internal/context.js';
import type { AuditRow, NewAuditRow } from './audit.table.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Reads the head row, locking it on PostgreSQL so concurrent appends queue instead of forking the chain. */
export async function lockHead(db: Db, lock: boolean): Promise<{ seq: number; hash: string } | undefined> {
  let q = db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1);
  if (lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function insertEntry(db: Db, row: NewAuditRow): Promise<void> {
  await db.insertInto('audit_log').values(row).execute();
  await db
    .insertInto('audit_head')
    .values({ id: 1, seq: row.seq, hash: row.hash })
    .onConflict((oc) => oc.column('id').doUpdateSet({ seq: row.seq, hash: row.hash }))
    .execute();
}

/** Several consecutive links: multi-row inserts (12 columns: chunks stay under SQLite's 32,766 parameters), one head update. */
export async function insertEntries(db: Db, rows: readonly NewAuditRow[]): Promise<void> {
  const last = rows.at(-1);
  if (!last) return;
  for (let i = 0; i < rows.length; i += 2000) await db.insertInto('audit_log').values(rows.slice(i, i + 2000)).execute();
  await db
    .insertInto('audit_head')
    .values({ id: 1, seq: last.seq, hash: last.hash })
    .onConflict((oc) => oc.column('id').doUpdateSet({ seq: last.seq, hash: last.hash }))
    .execute();
}

export const readHead = (db: Db) => db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();

/** One page of the chain in seq order, for a streaming walk. */
export const readPage = (db: Db, afterSeq: number, limit: number): Promise<AuditRow[]> =>
  db.selectFrom('audit_log').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();

export const listForSubject = (db: Db, subjectId: string, limit = 1000): Promise<AuditRow[]> =>
  db.selectFrom('audit_log').selectAll().where('subject_id', '=', subjectId).orderBy('seq').limit(limit).execute();

/**
 * One page of the entries about a subject written by anyone but the subject themself (staff, services, jobs), in
 * seq order after `afterSeq`: the right of access lists who else used the person's data (R-DSR-1). The actor is
 * filtered here, in SQL, so a page is never emptied by the person's own entries and a walk reaches every one.
 */
export const pageByOthersAbout = (db: Db, subjectId: string, afterSeq: number, limit: number): Promise<Pick<AuditRow, 'seq' | 'at' | 'actor' | 'action' | 'purpose'>[]> =>
  db
    .selectFrom('audit_log')
    .select(['seq', 'at', 'actor', 'action', 'purpose'])
    .where('subject_id', '=', subjectId)
    .where('actor', '<>', actorLabel({ type: 'user', id: subjectId }))
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
