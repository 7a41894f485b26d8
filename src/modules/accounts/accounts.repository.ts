import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { AccountRow, AccountUpdate, NewAccountRow } from './accounts.table.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The insert of one account row, compiled (the vault sends it with the new subject's key: createSubjectWith). */
export function insertAccountQuery(db: Db, row: NewAccountRow): CompiledQuery {
  return db.insertInto('accounts').values(row).compile();
}

/** Several rows, multi-row inserts of up to 1,500 (18 columns: 27,000 parameters, under SQLite's 32,766 and PostgreSQL's 65,535). */
export async function insertAccounts(db: Db, rows: readonly NewAccountRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1500) await db.insertInto('accounts').values(rows.slice(i, i + 1500)).execute();
}

/** Which of these blind indexes are already taken (bulk import: duplicates against the store). */
export async function takenIndexes(db: Db, emailIndexes: readonly string[], phoneIndexes: readonly string[]): Promise<{ readonly emails: Set<string>; readonly phones: Set<string> }> {
  const emails = new Set<string>();
  const phones = new Set<string>();
  // Chunks of 1,000 of each: at most 2,000 parameters per query on either engine.
  for (let i = 0; i < Math.max(emailIndexes.length, phoneIndexes.length); i += 1000) {
    const e = emailIndexes.slice(i, i + 1000);
    const p = phoneIndexes.slice(i, i + 1000);
    const found = await db.selectFrom('accounts').select(['email_index', 'phone_index'])
      .where((eb) => eb.or([...(e.length ? [eb('email_index', 'in', e)] : []), ...(p.length ? [eb('phone_index', 'in', p)] : [])]))
      .execute();
    for (const f of found) {
      emails.add(f.email_index);
      phones.add(f.phone_index);
    }
  }
  return { emails, phones };
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

/** Updates the account only if nobody changed it since `readAt` (its `updated_at` then); false when someone did. */
export async function updateAccountIfUnchanged(db: Db, subjectId: string, readAt: string, changes: AccountUpdate): Promise<boolean> {
  const r = await db.updateTable('accounts').set(changes).where('subject_id', '=', subjectId).where('updated_at', '=', readAt).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** R-DSR-7 physical purge after crypto-shredding: the account row (its blind indexes with it, so the e-mail is free again). */
export async function purgeSubject(db: Db, subjectId: string): Promise<number> {
  const r = await db.deleteFrom('accounts').where('subject_id', '=', subjectId).executeTakeFirst();
  return Number(r.numDeletedRows);
}
