import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { EngineKind } from '../../internal/db/engine.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { cryptoUniform, percentile } from './laplace.js';
import { boundContributions, chargedDays, coveredDays, noisyGroups, releaseThreshold, type GroupKey, type NoisyGroup } from './insights.release.js';
import { contributions, fieldValues, groupSizes, lockBudgetDays, spendOnDays } from './insights.repository.js';
import type { Pseudonyms } from './pseudonyms.js';

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

export type ReleaseQuery = Omit<InsightQuery, 'metric' | 'field'>;

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

/** A public/partner release: noisy people counts only, never an exact count or the number of small groups. */
export interface Release {
  readonly groups: readonly NoisyGroup[];
  readonly k: number;
  /** The least noisy value published: k for days and events, releaseThreshold for model, firmware and region. */
  readonly threshold: number;
  readonly epsilon: number;
  readonly delta: number;
  /** ε left in the most spent pseudonym epoch the release is charged to. */
  readonly remaining: number;
}

const EPSILON_SLACK = 1e-9;

/**
 * Aggregates of the User Experience Program (R-USE-3, R-AGG-1): never a row. `query` serves the product team
 * exact aggregates of groups of at least k distinct pseudonyms (k = policy minGroupSize). `release` is for the
 * public and partners: (ε, δ)-differentially private people counts per group, paid for from the budget of every
 * pseudonym epoch whose pseudonyms the covered days can hold (see `release`).
 *
 * `epochs` is the pseudonyms' epoch function, so the budget's unit is exactly a pseudonym's lifetime. `random`
 * draws uniformly from (0, 1) for the noise; only tests pass anything but the CSPRNG.
 */
export class Insights {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: EngineKind,
    private readonly policy: CompiledPolicy,
    private readonly audit: AuditLog,
    private readonly epochs: Pick<Pseudonyms, 'epochOf'>,
    private readonly random: () => number = cryptoUniform,
  ) {}

  async query(q: InsightQuery): Promise<InsightResult> {
    const k = this.policy.telemetry.minGroupSize;
    const percentileOf = q.metric === 'p50' ? 50 : q.metric === 'p95' ? 95 : undefined;
    if (percentileOf !== undefined) {
      const type = q.event ? this.policy.telemetry.events.get(q.event)?.[q.field ?? ''] : undefined;
      if (type !== 'number') throw errors.validation('p50 and p95 need an event and one of its numeric fields (event=…&field=…)');
    }
    this.checkEvent(q.event);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(q.from) || !/^\d{4}-\d{2}-\d{2}$/.test(q.to) || q.from > q.to) throw errors.validation('from and to are days (YYYY-MM-DD), from <= to');
    const sizes = await groupSizes(this.db, q);
    const kept = sizes.filter((g) => g.people >= k);
    let groups: InsightGroup[];
    if (percentileOf === undefined) {
      groups = kept.map((g) => ({ key: g.key, value: q.metric === 'count' ? g.events : g.people }));
    } else {
      const byKey = await fieldValues(this.db, q, q.field as string);
      groups = kept.map((g) => ({ key: g.key, value: percentile((byKey.get(g.key) ?? []).sort((a, b) => a - b), percentileOf) ?? 0 }));
    }
    groups.sort((a, b) => String(a.key).localeCompare(String(b.key)));
    return { groups, suppressed: sizes.length - kept.length, k };
  }

  /**
   * A noisy release of people per group (R-AGG-1). `label` names the release in the audit log and the file; it
   * has no say over the budget.
   *
   * - Contribution: each pseudonym counts in at most m = policy maxGroupsPerPseudonym groups (boundContributions),
   *   so adding or removing one pseudonym changes the vector of counts by at most m in L1 norm, and Laplace noise
   *   of scale m/ε per group makes the counts ε-differentially private for one pseudonym. A pseudonym is one
   *   person within one pseudonym epoch; a person who appears under two pseudonyms in the covered days is
   *   protected at 2ε by this release.
   * - Suppression: on the noisy value (noisyGroups), never on the exact one. Grouped by day or event the set of
   *   possible groups is public (the covered days, the policy's events), so exactly those get a noisy count, empty
   *   or not, and the threshold is k: whether a group appears reveals nothing beyond the noise. For model,
   *   firmware and region only groups present in the data are candidates, so a group's mere presence is not
   *   covered by the noise; the threshold τ = k + (m/ε)·ln(1/(2δ)) (releaseThreshold) keeps a group of one person
   *   out except with probability at most δ = policy delta. The release as a whole is (ε, δ)-DP per pseudonym.
   * - Budget: ε is charged to every pseudonym epoch whose pseudonyms can appear in `from`..`to` (chargedDays:
   *   the ledger keeps one row per day and charges every day of those epochs), in the same transaction as the
   *   audit entry; if the most spent of those days would go over policy budgetPerEpoch, nothing is charged,
   *   nothing is returned and the release is refused with PRIVACY_BUDGET_SPENT. Any name, any grouping, any
   *   days of the same epoch: the same budget pays.
   */
  async release(ctx: ActorContext, label: string, q: ReleaseQuery): Promise<Release> {
    if (!/^[\w.-]{1,64}$/.test(label)) throw errors.validation('dataset is 1–64 letters, digits, dots, dashes or underscores');
    const days = coveredDays(q.from, q.to);
    this.checkEvent(q.event);
    const { epsilon, delta, minGroupSize: k, maxGroupsPerPseudonym: m, budgetPerEpoch: total } = this.policy.telemetry;
    const charged = chargedDays(q.from, q.to, (ms) => this.epochs.epochOf(ms));
    const publicKeys = this.publicKeys(q, days);
    const scale = m / epsilon;
    let pairs = await contributions(this.db, q);
    let threshold = releaseThreshold({ k, scale, maxGroups: m, delta });
    if (publicKeys !== undefined) {
      // Only the listed keys: an event the policy no longer declares would otherwise be a key from the data.
      const listed = new Set<GroupKey>(publicKeys);
      pairs = pairs.filter((p) => listed.has(p.key));
      threshold = k;
    }
    const counts = boundContributions(pairs, m);
    for (const key of publicKeys ?? []) if (!counts.has(key)) counts.set(key, 0);
    const groups = noisyGroups(counts, { scale, threshold, random: this.random });
    const remaining = await this.db.transaction().execute(async (trx) => {
      const ledger = await lockBudgetDays(trx, this.kind, charged);
      const fullest = ledger.reduce((a, b) => (b.spent > a.spent ? b : a));
      if (fullest.spent + epsilon > total + EPSILON_SLACK) {
        throw new AppError('PRIVACY_BUDGET_SPENT', `The privacy budget of the pseudonym epoch holding ${fullest.day} is spent (${fullest.spent} of ${total}); a release whose days can hold its pseudonyms would need ${epsilon} more`, { day: fullest.day, spent: fullest.spent, total, epsilon });
      }
      await spendOnDays(trx, charged[0]!, charged[charged.length - 1]!, epsilon);
      await this.audit.append(trx, ctx, { action: 'insights.released', target: label, details: { from: q.from, to: q.to, groupBy: q.groupBy, event: q.event ?? null, epsilon, delta, threshold, maxGroupsPerPseudonym: m, published: groups.length } });
      return total - fullest.spent - epsilon;
    });
    return { groups, k, threshold, epsilon, delta, remaining };
  }

  private checkEvent(event: string | undefined): void {
    if (event !== undefined && !this.policy.telemetry.events.has(event)) throw new AppError('UNKNOWN_EVENT');
  }

  /**
   * The groups anyone can list without seeing the data, each of which gets a noisy count even when no one is in
   * it; undefined when the keys come from the data (model, firmware, region).
   */
  private publicKeys(q: ReleaseQuery, days: readonly string[]): readonly GroupKey[] | undefined {
    switch (q.groupBy) {
      case 'day':
        return days;
      case 'event':
        return q.event !== undefined ? [q.event] : [...this.policy.telemetry.events.keys()];
      case 'model':
      case 'firmware':
      case 'region':
        return undefined;
    }
  }
}

/** CSV (RFC 4180) of a result: key,value. */
export function toCsv(groupBy: string, metric: string, groups: readonly InsightGroup[]): string {
  const cell = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [`${groupBy},${metric}`, ...groups.map((g) => `${cell(g.key ?? '')},${g.value}`)].join('\r\n') + '\r\n';
}
