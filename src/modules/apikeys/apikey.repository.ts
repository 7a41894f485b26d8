import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ApiKeyRow } from './apikey.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertKey(db: Db, row: ApiKeyRow): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

export const keyByHash = (db: Db, hash: string): Promise<ApiKeyRow | undefined> =>
  db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();

export const listKeys = (db: Db): Promise<ApiKeyRow[]> => db.selectFrom('api_keys').selectAll().orderBy('created_at').execute();

export async function revokeKey(db: Db, id: string, at: string): Promise<boolean> {
  const r = await db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
