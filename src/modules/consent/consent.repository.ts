import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ConsentCurrentRow, ConsentEventRow, NewConsentEventRow, SubjectStatusRow } from './consent.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertEvent(db: Db, row: NewConsentEventRow, expiresAt: string | null): Promise<void> {
  await db.insertInto('consent_events').values(row).execute();
  const current = {
    status: row.status,
    source: row.source,
    collection_method: row.collection_method,
    event_id: row.id,
    at: row.at,
    expires_at: expiresAt,
  };
  await db
    .insertInto('consent_current')
    .values({ subject_id: row.subject_id, purpose: row.purpose, ...current })
    .onConflict((oc) => oc.columns(['subject_id', 'purpose']).doUpdateSet(current))
    .execute();
}

export const currentFor = (db: Db, subjectId: string): Promise<ConsentCurrentRow[]> =>
  db.selectFrom('consent_current').selectAll().where('subject_id', '=', subjectId).execute();

export const currentForMany = (db: Db, subjectIds: readonly string[]): Promise<ConsentCurrentRow[]> =>
  db.selectFrom('consent_current').selectAll().where('subject_id', 'in', subjectIds).execute();

export const eventsFor = (db: Db, subjectId: string): Promise<ConsentEventRow[]> =>
  db.selectFrom('consent_events').selectAll().where('subject_id', '=', subjectId).orderBy('at').orderBy('id').execute();

/** Given consents whose expiry has passed: the sweeper appends an 'expired' event for each. */
export const dueToExpire = (db: Db, nowIso: string, limit: number): Promise<ConsentCurrentRow[]> =>
  db.selectFrom('consent_current').selectAll().where('status', '=', 'given').where('expires_at', '<=', nowIso).limit(limit).execute();

export async function insertReceipt(db: Db, row: { id: string; subject_id: string; at: string; jws: string }): Promise<void> {
  await db.insertInto('consent_receipts').values(row).execute();
}

export const receiptById = (db: Db, id: string) => db.selectFrom('consent_receipts').selectAll().where('id', '=', id).executeTakeFirst();

export const statusFor = (db: Db, subjectId: string): Promise<SubjectStatusRow | undefined> =>
  db.selectFrom('subject_status').selectAll().where('subject_id', '=', subjectId).executeTakeFirst();

export const statusForMany = (db: Db, subjectIds: readonly string[]): Promise<SubjectStatusRow[]> =>
  db.selectFrom('subject_status').selectAll().where('subject_id', 'in', subjectIds).execute();

export type StatusPatch = Partial<Pick<SubjectStatusRow, 'is_child' | 'guardian_consent' | 'restricted' | 'restricted_reason' | 'erased_at'>>;

/** Creates the status row with defaults or changes only the given columns. */
export async function upsertStatus(db: Db, subjectId: string, patch: StatusPatch, nowIso: string): Promise<void> {
  const set = { ...patch, updated_at: nowIso };
  await db
    .insertInto('subject_status')
    .values({ subject_id: subjectId, is_child: 0, guardian_consent: 0, restricted: 0, restricted_reason: null, erased_at: null, ...set })
    .onConflict((oc) => oc.column('subject_id').doUpdateSet(set))
    .execute();
}

/** The key after which `eventsPage` continues: the last event of the previous page. */
export interface EventCursor {
  readonly at: string;
  readonly id: string;
}

/**
 * One page of a subject's consent history in ledger order, for readers that must not hold it whole (the rights
 * export of a person with 100k events). `at >=` lets the (subject_id, at) index do the work; the OR only breaks
 * ties within one instant. Start with `{ at: '', id: '' }`.
 */
export const eventsPage = (db: Db, subjectId: string, after: EventCursor, limit: number) =>
  db
    .selectFrom('consent_events')
    .select(['id', 'purpose', 'status', 'source', 'collection_method', 'at', 'policy_version', 'receipt_id'])
    .where('subject_id', '=', subjectId)
    .where('at', '>=', after.at)
    .where((eb) => eb.or([eb('at', '>', after.at), eb('id', '>', after.id)]))
    .orderBy('at')
    .orderBy('id')
    .limit(limit)
    .execute();
