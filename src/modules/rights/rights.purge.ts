import { sql, type Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { CompiledPolicy } from '../policy/policy.js';

/**
 * Tables holding a person's data under another name than the policy's `fields:` map uses: sessions hold no sealed
 * field, and the sealed module binds its ciphertext to `sealed.value` while its table is `sealed_values`.
 */
const EXTRA_TABLES = ['sessions', 'sealed_values'] as const;

/** Every table that holds a declared personal field, from the policy (R-CLS-1): the purge follows the policy, not a list in code. */
export function personalTables(policy: CompiledPolicy): string[] {
  const tables = new Set<string>();
  for (const key of policy.fields.keys()) tables.add(key.slice(0, key.indexOf('.')));
  for (const t of EXTRA_TABLES) tables.add(t);
  return [...tables].filter((t) => /^[a-z_][a-z0-9_]*$/.test(t)).sort();
}

// A table that is declared but not created in this build, or keyed by a pseudonym instead of subject_id.
const isMissingTableOrColumn = (e: unknown): boolean => {
  const err = e as { code?: string; message?: string };
  return err.code === '42P01' || err.code === '42703' || /no such (table|column)/.test(err.message ?? '');
};

/**
 * Physical purge after crypto-shredding (R-DSR-7): deletes the person's rows, already unreadable, from every
 * personal table. ARCHITECTURE promises `subject_id` on every personal table; that is what makes this one
 * statement per table. Rows moved to a hold subject are not the person's any more and stay. Idempotent.
 * Each delete runs on its own (a missing table must not abort the others on PostgreSQL).
 */
export async function purgeSubject(db: Kysely<Database>, tables: readonly string[], subjectId: string): Promise<Record<string, number>> {
  const removed: Record<string, number> = {};
  for (const table of tables) {
    try {
      const r = await sql`DELETE FROM ${sql.table(table)} WHERE subject_id = ${subjectId}`.execute(db);
      removed[table] = Number(r.numAffectedRows ?? 0);
    } catch (e) {
      if (!isMissingTableOrColumn(e)) throw e;
    }
  }
  return removed;
}

/** Contacts the person shared (third parties, each with a key of their own): erased with the account. */
export async function sharedContacts(db: Kysely<Database>, subjectId: string): Promise<string[]> {
  try {
    return (await db.selectFrom('contacts').select('subject_id').where('inviter_subject_id', '=', subjectId).execute()).map((r) => r.subject_id);
  } catch (e) {
    if (isMissingTableOrColumn(e)) return [];
    throw e;
  }
}
