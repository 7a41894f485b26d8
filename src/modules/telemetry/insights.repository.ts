import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { EngineKind } from '../../internal/db/engine.js';
import { nowIso } from '../../internal/db/columns.js';
import type { Contribution, GroupKey } from './insights.release.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface EventFilter {
  readonly groupBy: 'event' | 'model' | 'firmware' | 'region' | 'day';
  /** Days, inclusive, YYYY-MM-DD. */
  readonly from: string;
  readonly to: string;
  readonly event?: string | undefined;
}

function eventsIn(db: Db, f: EventFilter) {
  const base = db.selectFrom('telemetry_events').where('day', '>=', f.from).where('day', '<=', f.to);
  return f.event === undefined ? base : base.where('event', '=', f.event);
}

const keyOf = (f: EventFilter) => sql<GroupKey>`${sql.ref(f.groupBy)}`.as('key');

/** Per group: events and distinct pseudonyms (exact; for the product team's internal reads only). */
export async function groupSizes(db: Db, f: EventFilter): Promise<{ key: GroupKey; events: number; people: number }[]> {
  const rows = await eventsIn(db, f)
    .select([keyOf(f), (eb) => eb.fn.countAll<number>().as('n'), sql<number>`count(distinct pseudonym)`.as('people')])
    .groupBy(f.groupBy)
    .execute();
  return rows.map((r) => ({ key: r.key, events: Number(r.n), people: Number(r.people) }));
}

/** Per group, every value of one numeric field (for percentiles). */
export async function fieldValues(db: Db, f: EventFilter, field: string): Promise<Map<GroupKey, number[]>> {
  const rows = await eventsIn(db, f).select([keyOf(f), 'fields']).execute();
  const byKey = new Map<GroupKey, number[]>();
  for (const r of rows) {
    const v = (JSON.parse(r.fields) as Record<string, unknown>)[field];
    if (typeof v === 'number') byKey.set(r.key, [...(byKey.get(r.key) ?? []), v]);
  }
  return byKey;
}

/** Every distinct (pseudonym, group) pair: what a release bounds per pseudonym before it counts. */
export async function contributions(db: Db, f: EventFilter): Promise<Contribution[]> {
  return eventsIn(db, f).select(['pseudonym', keyOf(f)]).distinct().execute();
}

/**
 * The ledger rows of `days` (all of one contiguous range), created at 0 where missing, read under a row lock on
 * PostgreSQL so that two releases over the same day cannot both spend its last ε (SQLite serialises writers).
 * Locked in day order, so overlapping releases wait for each other instead of deadlocking.
 */
export async function lockBudgetDays(trx: Transaction<Database>, kind: EngineKind, days: readonly string[]): Promise<{ day: string; spent: number }[]> {
  const at = nowIso();
  await trx
    .insertInto('privacy_budget_days')
    .values(days.map((day) => ({ day, spent: 0, updated_at: at })))
    .onConflict((oc) => oc.column('day').doNothing())
    .execute();
  let read = trx.selectFrom('privacy_budget_days').select(['day', 'spent']).where('day', '>=', days[0]!).where('day', '<=', days[days.length - 1]!).orderBy('day');
  if (kind === 'postgres') read = read.forUpdate();
  return (await read.execute()).map((r) => ({ day: r.day, spent: Number(r.spent) }));
}

/** Adds ε to every ledger day from `from` to `to`; call after lockBudgetDays (same days) in the same transaction. */
export async function spendOnDays(trx: Transaction<Database>, from: string, to: string, epsilon: number): Promise<void> {
  await trx
    .updateTable('privacy_budget_days')
    .set((eb) => ({ spent: eb('spent', '+', epsilon), updated_at: nowIso() }))
    .where('day', '>=', from)
    .where('day', '<=', to)
    .execute();
}

