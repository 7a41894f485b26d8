import { sql, type Kysely } from 'kysely';
import type { EngineKind } from '../../internal/db/engine.js';
import { dayStart, receiptSpan } from './insights.release.js';

const DAY_MS = 86_400_000;

interface LedgerDb {
  privacy_budgets: { spent: number };
  telemetry_events: { day: string };
  privacy_budget_days: { day: string; spent: number; updated_at: string };
}

/**
 * Migration 0810's carry-over of the ε spent under the old per-dataset ledger `privacy_budgets` (R-AGG-1), run
 * before that table is dropped; returns the ε charged (0 when the table is gone or nothing was spent).
 *
 * Why this much: an old row names a dataset, not the days its releases covered, so any of that ε may have fallen
 * on any pseudonym of the stored events. The sum over all datasets is charged to every day on which an event of
 * the stored days can have been received (receiptSpan of the first and last stored day). Every pseudonym epoch
 * whose pseudonyms the stored events carry holds at least one of those days, and a release is refused when the
 * most spent day of an epoch it touches is full, so no pseudonym gets more than budgetPerEpoch in total. The
 * migration does not know the policy's epoch length, hence days and not epochs.
 */
export async function carryOldBudget(db: Kysely<unknown>, kind: EngineKind): Promise<number> {
  const ledger = db as Kysely<LedgerDb>;
  const present =
    kind === 'postgres'
      ? await sql<{ n: number }>`SELECT count(*) AS n FROM pg_tables WHERE tablename = 'privacy_budgets' AND schemaname = current_schema()`.execute(ledger)
      : await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'privacy_budgets'`.execute(ledger);
  if (Number(present.rows[0]?.n ?? 0) === 0) return 0;
  const old = await ledger.selectFrom('privacy_budgets').select((eb) => eb.fn.sum<number | string | null>('spent').as('spent')).executeTakeFirst();
  const spent = Number(old?.spent ?? 0);
  if (!(spent > 0)) return 0;
  const span = await ledger.selectFrom('telemetry_events').select((eb) => [eb.fn.min<string | null>('day').as('first'), eb.fn.max<string | null>('day').as('last')]).executeTakeFirst();
  if (!span?.first || !span.last) return 0;
  const { low, high } = receiptSpan(span.first, span.last);
  const at = new Date().toISOString();
  const days: string[] = [];
  for (let ms = dayStart(low); ms <= high; ms += DAY_MS) days.push(new Date(ms).toISOString().slice(0, 10));
  for (let i = 0; i < days.length; i += 500) {
    await ledger
      .insertInto('privacy_budget_days')
      .values(days.slice(i, i + 500).map((day) => ({ day, spent, updated_at: at })))
      .onConflict((oc) => oc.column('day').doUpdateSet((eb) => ({ spent: eb('privacy_budget_days.spent', '+', eb.ref('excluded.spent')), updated_at: at })))
      .execute();
  }
  return spent;
}
