import { createHash } from 'node:crypto';
import { errors } from '../../internal/errors/app-error.js';
import { laplace } from './laplace.js';

/** A group key of a release: a model, firmware, region, event name or day; null where the column is empty. */
export type GroupKey = string | null;

/** One pseudonym seen in one group (a distinct pair). */
export interface Contribution {
  readonly pseudonym: string;
  readonly key: GroupKey;
}

/** The longest span a release may cover: each covered day is one ledger row locked and charged in its transaction. */
export const MAX_RELEASE_DAYS = 366;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/**
 * Every day (UTC, YYYY-MM-DD) from `from` to `to` inclusive: the days of telemetry a release covers and pays for.
 * Refuses impossible dates (2026-02-30), a reversed range and spans over MAX_RELEASE_DAYS.
 */
export function coveredDays(from: string, to: string): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  const real = (d: string, ms: number): boolean => DAY.test(d) && Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === d;
  if (!real(from, start) || !real(to, end) || start > end) throw errors.validation('from and to are days (YYYY-MM-DD), from <= to');
  const count = (end - start) / DAY_MS + 1;
  if (count > MAX_RELEASE_DAYS) throw errors.validation(`A release covers at most ${MAX_RELEASE_DAYS} days`, { days: count, max: MAX_RELEASE_DAYS });
  return Array.from({ length: count }, (_, i) => new Date(start + i * DAY_MS).toISOString().slice(0, 10));
}

/** A fixed pseudo-random order of one pseudonym's groups: the same data always keeps the same groups. */
const rank = (c: Contribution): string => createHash('sha256').update(`${c.pseudonym}\n${JSON.stringify(c.key)}`).digest('hex');

/**
 * People per group after bounding each pseudonym's contribution: a pseudonym found in more than `maxGroups` groups
 * is counted only in the `maxGroups` of them that rank first by SHA-256(pseudonym, key) and dropped from the rest.
 *
 * Why: the noise must match the L1 sensitivity of the whole vector of counts. Grouped by model or region a
 * pseudonym is mostly in one group, but grouped by day or event one pseudonym can be in every group, so adding or
 * removing it would move every count by 1. After this bound it moves at most `maxGroups` counts by 1 each
 * (L1 sensitivity = maxGroups), whatever anybody else sent: the choice depends on that pseudonym's own pairs
 * only. A hash order rather than "first days first" keeps the drops spread evenly over days and events.
 *
 * @example boundContributions([{ pseudonym: 'a', key: 'x' }, { pseudonym: 'a', key: 'y' }], 1) // one of x, y → 1
 */
export function boundContributions(pairs: readonly Contribution[], maxGroups: number): Map<GroupKey, number> {
  const byPseudonym = new Map<string, Contribution[]>();
  for (const p of pairs) {
    const list = byPseudonym.get(p.pseudonym);
    if (list) list.push(p);
    else byPseudonym.set(p.pseudonym, [p]);
  }
  const counts = new Map<GroupKey, number>();
  for (const list of byPseudonym.values()) {
    const unique = [...new Map(list.map((c) => [c.key, c])).values()];
    const kept = unique.length <= maxGroups ? unique : unique.map((c) => ({ c, r: rank(c) })).sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0)).slice(0, maxGroups).map((x) => x.c);
    for (const c of kept) counts.set(c.key, (counts.get(c.key) ?? 0) + 1);
  }
  return counts;
}

export interface NoiseSettings {
  /** Laplace scale = L1 sensitivity / ε. */
  readonly scale: number;
  /** Minimum group size; applied to the noisy value. */
  readonly k: number;
  /** Uniform on (0, 1); the CSPRNG in production. */
  readonly random?: () => number;
}

export interface NoisyGroup {
  readonly key: GroupKey;
  readonly value: number;
}

/**
 * The published part of a release: every count with Laplace noise, rounded and floored at 0, and only the groups
 * whose *noisy* value is at least k. Suppressing on the exact count would make the choice of published groups a
 * function of exact data that no noise protects (a group appearing or not would tell whether it holds k people);
 * deciding on the noisy value is post-processing of the noisy count. No exact count leaves this function.
 */
export function noisyGroups(counts: ReadonlyMap<GroupKey, number>, s: NoiseSettings): NoisyGroup[] {
  // Drawn in key order, so a seeded source gives the same release whatever order the engine returned rows in.
  const ordered = [...counts].sort(([a], [b]) => String(a).localeCompare(String(b)));
  const out: NoisyGroup[] = [];
  for (const [key, n] of ordered) {
    const value = Math.max(0, Math.round(n + laplace(s.scale, s.random)));
    if (value >= s.k) out.push({ key, value });
  }
  return out;
}
