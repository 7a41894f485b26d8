import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { SealedRow } from './sealed.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function upsert(db: Db, row: SealedRow): Promise<void> {
  await db
    .insertInto('sealed_values')
    .values(row)
    .onConflict((oc) => oc.columns(['subject_id', 'name']).doUpdateSet({ value: row.value, updated_at: row.updated_at }))
    .execute();
}

export function byName(db: Db, subjectId: string, name: string): Promise<SealedRow | undefined> {
  return db.selectFrom('sealed_values').selectAll().where('subject_id', '=', subjectId).where('name', '=', name).executeTakeFirst();
}

export function names(db: Db, subjectId: string): Promise<{ name: string; updated_at: string }[]> {
  return db.selectFrom('sealed_values').select(['name', 'updated_at']).where('subject_id', '=', subjectId).orderBy('name').execute();
}

export async function remove(db: Db, subjectId: string, name: string): Promise<boolean> {
  const r = await db.deleteFrom('sealed_values').where('subject_id', '=', subjectId).where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

/** Every sealed value of a subject (account erasure, after the key is shredded). Returns how many. */
export async function deleteAllFor(db: Db, subjectId: string): Promise<number> {
  return Number((await db.deleteFrom('sealed_values').where('subject_id', '=', subjectId).executeTakeFirst()).numDeletedRows);
}
