import { sql, type Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { EngineKind } from '../../internal/db/engine.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import { nowIso } from '../../internal/db/columns.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { laplace, percentile } from './laplace.js';

export const METRICS = ['count', 'distinct', 'p50', 'p95'] as const;
export const GROUP_BY = ['event', 'model', 'firmware', 'region', 'day'] as const;
export type Metric = (typeof METRICS)[number];
export type GroupBy = (typeof GROUP_BY)[number];

export interface InsightQuery {
  readonly metric: Metric;
  readonly groupBy: GroupBy;
  /** Days, inclusive, YYYY-MM-DD. */
  readonly from: string;
  readonly to: string;
  readonly event?: string | undefined;
  /** For p50 / p95: the numeric field of `event`. */
  readonly field?: string | undefined;
}

export interface InsightGroup {
  readonly key: string | null;
  readonly value: number;
}

export interface InsightResult {
  readonly groups: readonly InsightGroup[];
  /** Groups left out because fewer than k people are in them (R-AGG-1). */
  readonly suppressed: number;
  readonly k: number;
}

/**
 * Aggregates of the User Experience Program (R-USE-3, R-AGG-1): never a row, only groups of at least k distinct
 * pseudonyms (k = policy minGroupSize). A release for the public or partners (`release`) counts people per group
 * with Laplace noise of scale 1/ε (one person changes a distinct count by at most 1) and spends ε from the
 * dataset's budget; when the budget is spent, releases are refused.
 */
export class Insights {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: EngineKind,
    private readonly policy: CompiledPolicy,
    private readonly audit: AuditLog,
  ) {}

  async query(q: InsightQuery): Promise<InsightResult> {
    const k = this.policy.telemetry.minGroupSize;
    const percentileOf = q.metric === 'p50' ? 50 : q.metric === 'p95' ? 95 : undefined;
    if (percentileOf !== undefined) {
      const type = q.event ? this.policy.telemetry.events.get(q.event)?.[q.field ?? ''] : undefined;
      if (type !== 'number') throw errors.validation('p50 and p95 need an event and one of its numeric fields (event=…&field=…)');
    }
    if (q.event !== undefined && !this.policy.telemetry.events.has(q.event)) throw new AppError('UNKNOWN_EVENT');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(q.from) || !/^\d{4}-\d{2}-\d{2}$/.test(q.to) || q.from > q.to) throw errors.validation('from and to are days (YYYY-MM-DD), from <= to');
    let base = this.db.selectFrom('telemetry_events').where('day', '>=', q.from).where('day', '<=', q.to);
    if (q.event !== undefined) base = base.where('event', '=', q.event);
    const sizes = await base
      .select([sql<string | null>`${sql.ref(q.groupBy)}`.as('key'), (eb) => eb.fn.countAll<number>().as('n'), sql<number>`count(distinct pseudonym)`.as('people')])
      .groupBy(q.groupBy)
      .execute();
    const kept = sizes.filter((g) => Number(g.people) >= k);
    let groups: InsightGroup[];
    if (percentileOf === undefined) {
      groups = kept.map((g) => ({ key: g.key, value: Number(q.metric === 'count' ? g.n : g.people) }));
    } else {
      const rows = await base.select([sql<string | null>`${sql.ref(q.groupBy)}`.as('key'), 'fields']).execute();
      const byKey = new Map<string | null, number[]>();
      for (const r of rows) {
        const v = (JSON.parse(r.fields) as Record<string, unknown>)[q.field as string];
        if (typeof v === 'number') byKey.set(r.key, [...(byKey.get(r.key) ?? []), v]);
      }
      groups = kept.map((g) => ({ key: g.key, value: percentile((byKey.get(g.key) ?? []).sort((a, b) => a - b), percentileOf) ?? 0 }));
    }
    groups.sort((a, b) => String(a.key).localeCompare(String(b.key)));
    return { groups, suppressed: sizes.length - kept.length, k };
  }

  /** A noisy release of people counts per group; spends ε of the dataset's budget in the same transaction as its audit entry. */
  async release(ctx: ActorContext, dataset: string, q: Omit<InsightQuery, 'metric' | 'field'>): Promise<InsightResult & { epsilon: number; remaining: number }> {
    if (!/^[\w.-]{1,64}$/.test(dataset)) throw errors.validation('dataset is 1–64 letters, digits, dots, dashes or underscores');
    const epsilon = this.policy.telemetry.epsilon;
    const exact = await this.query({ ...q, metric: 'distinct' });
    const k = exact.k;
    // Noise first, then suppression of what looks small after noise as well: the release never shows a group under k.
    const noisy = exact.groups.map((g) => ({ key: g.key, value: Math.max(0, Math.round(g.value + laplace(1 / epsilon))) })).filter((g) => g.value >= k);
    const remaining = await this.db.transaction().execute(async (trx) => {
      const total = this.policy.telemetry.budgetPerDataset;
      await trx.insertInto('privacy_budgets').values({ dataset, spent: 0, total, updated_at: nowIso() }).onConflict((oc) => oc.column('dataset').doNothing()).execute();
      let read = trx.selectFrom('privacy_budgets').select(['spent', 'total']).where('dataset', '=', dataset);
      // Two releases at once must not both spend the last ε: PostgreSQL locks the row, SQLite serialises writers.
      if (this.kind === 'postgres') read = read.forUpdate();
      const budget = await read.executeTakeFirstOrThrow();
      if (budget.spent + epsilon > budget.total + 1e-9) throw new AppError('PRIVACY_BUDGET_SPENT', `The privacy budget of ${dataset} is spent (${budget.spent} of ${budget.total})`, { dataset, spent: budget.spent, total: budget.total });
      await trx.updateTable('privacy_budgets').set({ spent: budget.spent + epsilon, updated_at: nowIso() }).where('dataset', '=', dataset).execute();
      await this.audit.append(trx, ctx, { action: 'insights.released', target: dataset, details: { epsilon, groupBy: q.groupBy, groups: exact.groups.length } });
      return budget.total - budget.spent - epsilon;
    });
    return { groups: noisy, suppressed: exact.suppressed + exact.groups.length - noisy.length, k, epsilon, remaining };
  }
}

/** CSV (RFC 4180) of a result: key,value. */
export function toCsv(groupBy: string, metric: string, groups: readonly InsightGroup[]): string {
  const cell = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [`${groupBy},${metric}`, ...groups.map((g) => `${cell(g.key ?? '')},${g.value}`)].join('\r\n') + '\r\n';
}
