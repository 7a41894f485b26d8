import { sql, type Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { RightsDeps } from './rights.deps.js';

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

type Purger = (db: Kysely<Database>, subjectId: string) => Promise<number>;

/**
 * The tables whose owning module offers its own purge; an owner not wired in this build leaves its table alone
 * (never a raw delete behind its back). Sessions are not purged here: the `sessions` step ends them through the
 * accounts module before the purge runs. Held orders belong to their hold subject by now, so `orders` removes
 * only what the tax-law hold does not cover.
 */
function ownedPurgers(deps: RightsDeps): Record<string, Purger | null> {
  const { orders, sealed } = deps;
  return {
    orders: orders ? (db, s) => orders.deleteAllFor(db, s) : null,
    sealed_values: sealed ? (db, s) => sealed.deleteAllFor(db, s) : null,
    sessions: null,
    // The `contacts` step erases the contacts the person shared through the contacts module; a contact row is
    // keyed by the contact's own vault subject, never by the sharer's account.
    contacts: null,
  };
}

// A table that is declared but not created in this build, or keyed by a pseudonym instead of subject_id.
const isMissingTableOrColumn = (e: unknown): boolean => {
  const err = e as { code?: string; message?: string };
  return err.code === '42P01' || err.code === '42703' || /no such (table|column)/.test(err.message ?? '');
};

/**
 * Physical purge after crypto-shredding (R-DSR-7): deletes the person's rows, already unreadable, from every
 * personal table the policy names. Tables whose module offers a purge go through it; the others (accounts,
 * devices, telemetry links, logs — modules without one yet) are deleted here by `subject_id`, which ARCHITECTURE
 * promises on every personal table. Idempotent. Each table runs on its own (a missing table must not abort the
 * others on PostgreSQL).
 */
export async function purgeSubject(deps: RightsDeps, subjectId: string): Promise<Record<string, number>> {
  const owned = ownedPurgers(deps);
  const removed: Record<string, number> = {};
  for (const table of personalTables(deps.policy)) {
    if (table in owned) {
      const purge = owned[table];
      if (purge) removed[table] = await purge(deps.db, subjectId);
      continue;
    }
    try {
      const r = await sql`DELETE FROM ${sql.table(table)} WHERE subject_id = ${subjectId}`.execute(deps.db);
      removed[table] = Number(r.numAffectedRows ?? 0);
    } catch (e) {
      if (!isMissingTableOrColumn(e)) throw e;
    }
  }
  return removed;
}
