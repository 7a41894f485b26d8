import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { AccountRow, AccountUpdate, NewAccountRow } from './accounts.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export async function insertAccount(db: Db, row: NewAccountRow): Promise<void> {
  await db.insertInto('accounts').values(row).execute();
}

export function findById(db: Db, subjectId: string): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').selectAll().where('subject_id', '=', subjectId).executeTakeFirst();
}

/** Sign-in lookup by either blind index; the caller computes both from the login it was given. */
export function findByIndex(db: Db, column: 'email_index' | 'phone_index', index: string): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').selectAll().where(column, '=', index).executeTakeFirst();
}

export async function updateAccount(db: Db, subjectId: string, changes: AccountUpdate): Promise<void> {
  await db.updateTable('accounts').set(changes).where('subject_id', '=', subjectId).execute();
}
