import type { Kysely, Transaction, Updateable } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import { isUniqueViolation } from '../../internal/db/errors.js';
import type { DeviceRow, DevicesTable, NewDeviceRow } from './devices.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertDevice(db: Db, row: NewDeviceRow): Promise<void> {
  await db.insertInto('devices').values(row).execute();
}

/** Updates in place: the old location is overwritten, never copied anywhere (no history, R-USE-7). */
export async function updateDevice(db: Db, subjectId: string, id: string, changes: Updateable<DevicesTable>): Promise<void> {
  await db.updateTable('devices').set(changes).where('subject_id', '=', subjectId).where('id', '=', id).execute();
}

export function listForSubject(db: Db, subjectId: string): Promise<DeviceRow[]> {
  return db.selectFrom('devices').selectAll().where('subject_id', '=', subjectId).orderBy('activated_at').orderBy('id').execute();
}

export function byId(db: Db, subjectId: string, id: string): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('subject_id', '=', subjectId).where('id', '=', id).executeTakeFirst();
}

/** The owner's device with this keyed id index (R-SEC-4: the lookup never decrypts). */
export function byIdIndex(db: Db, subjectId: string, idIndex: string): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('subject_id', '=', subjectId).where('device_id_index', '=', idIndex).orderBy('activated_at').executeTakeFirst();
}

/** The owner's rows from before the id index existed (indexed lazily on first lookup). */
export function withoutIdIndex(db: Db, subjectId: string): Promise<DeviceRow[]> {
  return db.selectFrom('devices').selectAll().where('subject_id', '=', subjectId).where('device_id_index', 'is', null).execute();
}

export async function setIdIndex(db: Db, id: string, idIndex: string): Promise<void> {
  // Two unindexed rows of one device (stored before the unique index) cannot both take its index: the second
  // keeps none and is still found by the scan of unindexed rows.
  await db.updateTable('devices').set({ device_id_index: idIndex }).where('id', '=', id).where('device_id_index', 'is', null).execute().catch((e: unknown) => {
    if (!isUniqueViolation(e)) throw e;
  });
}

/** For purpose-bound reads by services (warranty, licences): the decision gate, not the owner, decides. */
export function byIdAnySubject(db: Db, id: string): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Devices holding a precise point, for the sweep that re-checks the precise-location consent. */
export function withPreciseLocation(db: Db, limit: number): Promise<DeviceRow[]> {
  return db.selectFrom('devices').selectAll().where('precise_location', 'is not', null).orderBy('id').limit(limit).execute();
}

/** R-DSR-2 partial erasure: the row and its ciphertexts go; nothing of it is kept elsewhere (no history table). */
export async function deleteDevice(db: Db, subjectId: string, id: string): Promise<number> {
  const r = await db.deleteFrom('devices').where('subject_id', '=', subjectId).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** R-DSR-7 physical purge after crypto-shredding: every device row of the subject. */
export async function purgeSubject(db: Db, subjectId: string): Promise<number> {
  const r = await db.deleteFrom('devices').where('subject_id', '=', subjectId).executeTakeFirst();
  return Number(r.numDeletedRows);
}
