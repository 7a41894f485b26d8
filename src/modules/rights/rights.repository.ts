import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { CorrectionRow, LegalHoldRow, NewRequestRow, RequestRow, TrailRow } from './rights.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export const insertRequest = (db: Db, row: NewRequestRow) => db.insertInto('rights_requests').values(row).execute();

export const requestById = (db: Db, id: string): Promise<RequestRow | undefined> => db.selectFrom('rights_requests').selectAll().where('id', '=', id).executeTakeFirst();

export const requestsOf = (db: Db, subjectId: string): Promise<RequestRow[]> =>
  db.selectFrom('rights_requests').selectAll().where('subject_id', '=', subjectId).orderBy('received_at', 'desc').orderBy('id').execute();

export async function updateRequest(db: Db, id: string, patch: Partial<Omit<RequestRow, 'id' | 'subject_id'>>): Promise<void> {
  await db.updateTable('rights_requests').set(patch).where('id', '=', id).execute();
}

/** No runner holds the request's work at `now`: nobody claimed it, or the claim ran out. */
const leaseFree = (eb: ExpressionBuilder<Database, 'rights_requests'>, now: string) => [eb('work_lease', 'is', null), eb('work_lease_until', '<=', now)];

/** What a conditional update expects of the row: its status (in or not in), no live work lease at `idleAt`, its extensions so far, the caller's lease. */
export interface RequestExpectation {
  readonly status?: readonly string[];
  readonly notStatus?: readonly string[];
  readonly idleAt?: string;
  readonly extendedMs?: number;
  /** The work claim the caller holds (rights.lease.ts). */
  readonly lease?: string;
}

/** Applies `patch` only if the row is as expected (one statement); false when it was not, i.e. it changed meanwhile. */
export async function updateRequestIf(db: Db, id: string, expect: RequestExpectation, patch: Partial<Omit<RequestRow, 'id' | 'subject_id'>>): Promise<boolean> {
  let q = db.updateTable('rights_requests').set(patch).where('id', '=', id);
  if (expect.status) q = q.where('status', 'in', [...expect.status]);
  if (expect.notStatus) q = q.where('status', 'not in', [...expect.notStatus]);
  if (expect.idleAt !== undefined) {
    const idleAt = expect.idleAt;
    q = q.where((eb) => eb.or(leaseFree(eb, idleAt)));
  }
  if (expect.extendedMs !== undefined) q = q.where('extended_ms', '=', expect.extendedMs);
  if (expect.lease !== undefined) q = q.where('work_lease', '=', expect.lease);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** R-DSR-4: how many requests of a type the person filed since a time (declined ones count: asking is what repeats). */
export async function countSince(db: Db, subjectId: string, type: string, sinceIso: string): Promise<number> {
  const r = await db
    .selectFrom('rights_requests')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('subject_id', '=', subjectId)
    .where('type', '=', type)
    .where('received_at', '>=', sinceIso)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function countOpen(db: Db, subjectId: string): Promise<number> {
  const r = await db
    .selectFrom('rights_requests')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('subject_id', '=', subjectId)
    .where('status', 'not in', ['completed', 'declined'])
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export interface QueueFilter {
  readonly status?: string | undefined;
  readonly type?: string | undefined;
  readonly overdueAt?: string | undefined;
  readonly limit: number;
}

export function queue(db: Db, f: QueueFilter): Promise<RequestRow[]> {
  let q = db.selectFrom('rights_requests').selectAll();
  if (f.status) q = q.where('status', '=', f.status);
  if (f.type) q = q.where('type', '=', f.type);
  if (f.overdueAt) q = q.where('due_at', '<', f.overdueAt).where('status', 'not in', ['completed', 'declined']);
  return q.orderBy('due_at').orderBy('id').limit(f.limit).execute();
}

/** Appends a step; always inside the transaction that changes the request, so the position is not raced. */
export async function addTrail(db: Db, row: Omit<TrailRow, 'id' | 'seq'>): Promise<void> {
  const last = await db.selectFrom('rights_request_trail').select((eb) => eb.fn.max('seq').as('m')).where('request_id', '=', row.request_id).executeTakeFirst();
  await db.insertInto('rights_request_trail').values({ id: randomUUID(), seq: Number(last?.m ?? 0) + 1, ...row }).execute();
}

export const trailOf = (db: Db, requestIds: readonly string[]): Promise<TrailRow[]> =>
  requestIds.length === 0 ? Promise.resolve([]) : db.selectFrom('rights_request_trail').selectAll().where('request_id', 'in', requestIds).orderBy('request_id').orderBy('seq').execute();

export async function addCorrection(db: Db, row: Omit<CorrectionRow, 'id'>): Promise<void> {
  await db.insertInto('rights_corrections').values({ id: randomUUID(), ...row }).execute();
}

export const correctionsOf = (db: Db, subjectId: string): Promise<CorrectionRow[]> =>
  db.selectFrom('rights_corrections').selectAll().where('subject_id', '=', subjectId).orderBy('at').execute();

/** How many corrections a request recorded: they commit with the corrected values, so any means its work is done. */
export const correctionCountOf = async (db: Db, requestId: string): Promise<number> =>
  Number((await db.selectFrom('rights_corrections').select((eb) => eb.fn.countAll<number>().as('n')).where('request_id', '=', requestId).executeTakeFirstOrThrow()).n);

export const stepsDone = async (db: Db, requestId: string): Promise<Set<string>> =>
  new Set((await db.selectFrom('erasure_steps').select('step').where('request_id', '=', requestId).execute()).map((r) => r.step));

/** Idempotent: a resumed run may record a step twice. */
export async function markStep(db: Db, requestId: string, subjectId: string, step: string, at: string): Promise<void> {
  await db.insertInto('erasure_steps').values({ request_id: requestId, subject_id: subjectId, step, done_at: at }).onConflict((oc) => oc.columns(['request_id', 'step']).doNothing()).execute();
}

export async function addHold(db: Db, row: LegalHoldRow): Promise<void> {
  await db.insertInto('rights_legal_holds').values(row).onConflict((oc) => oc.columns(['record_type', 'record_id']).doNothing()).execute();
}

export const holdsOf = (db: Db, subjectId: string): Promise<LegalHoldRow[]> => db.selectFrom('rights_legal_holds').selectAll().where('subject_id', '=', subjectId).orderBy('until').execute();

/** Where a walk of a person's legal holds stands: the last hold read (by end date, then record). */
export interface HoldCursor {
  readonly until: string;
  readonly recordType: string;
  readonly recordId: string;
}

/** One page of a person's legal holds after `from`, by end date then record (keyset, index `rights_legal_holds_subject`). */
export function holdsPage(db: Db, subjectId: string, from: HoldCursor | undefined, limit: number): Promise<LegalHoldRow[]> {
  let q = db.selectFrom('rights_legal_holds').selectAll().where('subject_id', '=', subjectId);
  if (from) {
    q = q.where((eb) =>
      eb.or([
        eb('until', '>', from.until),
        eb.and([eb('until', '=', from.until), eb.or([eb('record_type', '>', from.recordType), eb.and([eb('record_type', '=', from.recordType), eb('record_id', '>', from.recordId)])])]),
      ]),
    );
  }
  return q.orderBy('until').orderBy('record_type').orderBy('record_id').limit(limit).execute();
}

/** Exports whose link has expired: the sweep deletes the file and forgets its name. */
export const expiredExports = (db: Db, nowIso: string): Promise<RequestRow[]> =>
  db.selectFrom('rights_requests').selectAll().where('export_file', 'is not', null).where('export_expires_at', '<=', nowIso).execute();

/**
 * Claims a request's work for `holder` until `until`: only while it is in progress or extended, and only when no
 * other holder's lease is live — or when that holder is `staleHolder` (a process known to be gone). One
 * conditional update, so of two runners exactly one gets it.
 */
export async function claimWork(db: Db, id: string, holder: string, now: string, until: string, staleHolder?: string): Promise<boolean> {
  const r = await db
    .updateTable('rights_requests')
    .set({ work_lease: holder, work_lease_until: until })
    .where('id', '=', id)
    .where('status', 'in', ['in_progress', 'extended'])
    .where((eb) => {
      const free = leaseFree(eb, now);
      return eb.or(staleHolder === undefined ? free : [...free, eb('work_lease', '=', staleHolder)]);
    })
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function renewWork(db: Db, id: string, holder: string, until: string): Promise<void> {
  await db.updateTable('rights_requests').set({ work_lease_until: until }).where('id', '=', id).where('work_lease', '=', holder).execute();
}

export async function releaseWork(db: Db, id: string, holder: string): Promise<void> {
  await db.updateTable('rights_requests').set({ work_lease: null, work_lease_until: null }).where('id', '=', id).where('work_lease', '=', holder).execute();
}
