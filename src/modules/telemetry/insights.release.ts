import { createHash } from 'node:crypto';
import { errors } from '../../internal/errors/app-error.js';
import { laplace } from './laplace.js';
import { MAX_AGE_MS, MAX_SKEW_MS } from './event-validator.js';

/** A group key of a release: a model, firmware, region, event name or day; null where the column is empty. */
export type GroupKey = string | null;

/** One pseudonym seen in one group (a distinct pair). */
export interface Contribution {
  readonly pseudonym: string;
  readonly key: GroupKey;
}

/** The longest span a release may cover; it is charged on every day of about two more epochs than it spans. */
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

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const dayStart = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

/**
 * The first and last millisecond at which an event stored under a day from `from` to `to` can have been received,
 * hence the span of epochs whose pseudonyms those days can hold: the event validator accepts an `at` up to
 * MAX_AGE_MS before and MAX_SKEW_MS after receipt, and the pseudonym is that of the epoch of receipt.
 */
export function receiptSpan(from: string, to: string): { low: number; high: number } {
  return { low: Date.parse(`${from}T00:00:00Z`) - MAX_SKEW_MS, high: Date.parse(`${to}T00:00:00Z`) + DAY_MS - 1 + MAX_AGE_MS };
}

/**
 * The ledger days (UTC, YYYY-MM-DD, in order) a release over `from`..`to` is charged on: every day of every
 * pseudonym epoch whose pseudonyms can appear in those days (R-AGG-1). `epochOf` is the pseudonyms' own epoch
 * function (Pseudonyms.epochOf), so the ledger follows whatever epoch the policy sets.
 *
 * Why whole epochs: a pseudonym is one person for a whole epoch, so two releases over different days of one epoch
 * both see that person; charging each day only its own releases let 30 one-day releases spend 30ε on one
 * pseudonym. Charging every day of the epoch makes every release that can see a pseudonym draw on one shared
 * amount, and the check takes the most spent day, so the budget holds per epoch.
 *
 * Why more than the epochs of `from`..`to`: a pseudonym is that of the epoch an event is *received* in, and an
 * event's day is that of its `at`, which may lie up to MAX_AGE_MS before and MAX_SKEW_MS after its receipt. So
 * the days of a release hold pseudonyms of every epoch from the one of (from − skew) to the one of (to + age).
 *
 * @example chargedDays('2025-01-01', '2025-01-01', (ms) => Math.floor(ms / (30 * 86_400_000)))
 *   // 2024-12-13 … 2025-02-10: the epoch of 1 January and the next one (backdated events of its pseudonyms)
 */
export function chargedDays(from: string, to: string, epochOf: (ms: number) => number): string[] {
  coveredDays(from, to);
  const { low, high } = receiptSpan(from, to);
  const [first, last] = [epochOf(low), epochOf(high)];
  // A day belongs to the charge when any of its milliseconds lies in an epoch from `first` to `last`.
  let start = dayStart(low);
  while (epochOf(start - 1) >= first) start -= DAY_MS;
  let end = dayStart(high);
  while (epochOf(end + DAY_MS) <= last) end += DAY_MS;
  return Array.from({ length: (end - start) / DAY_MS + 1 }, (_, i) => dayOf(start + i * DAY_MS));
}

/**
 * The least noisy value at which a group whose key comes from the data (model, firmware, region) is published:
 * τ = k + (m/ε)·ln(1/(2δ)), and never less than 1 + (m/ε)·ln(m/(2δ)).
 *
 * Why: such a group exists only because someone is in it, so its presence is not covered by the Laplace noise.
 * One person alone in up to m new groups (count 1 each) gets one of them published with probability at most
 * m · ½·e^(−(τ−1)/scale); with the first bound that is δ·m·e^(−(k−1)/scale), with the second at most δ. So the
 * release is (ε, δ)-differentially private per pseudonym, and k still holds on the noisy value. Keys from a public
 * list (days, declared events) need no such margin: threshold k.
 *
 * @example releaseThreshold({ k: 10, scale: 4, maxGroups: 4, delta: 1e-6 }) // ≈ 62.5
 */
export function releaseThreshold(p: { readonly k: number; readonly scale: number; readonly maxGroups: number; readonly delta: number }): number {
  return Math.max(p.k + p.scale * Math.log(1 / (2 * p.delta)), 1 + p.scale * Math.log(p.maxGroups / (2 * p.delta)));
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
  /** The least noisy value published: k for public keys, releaseThreshold for keys from the data. */
  readonly threshold: number;
  /** Uniform on (0, 1); the CSPRNG in production. */
  readonly random?: () => number;
}

export interface NoisyGroup {
  readonly key: GroupKey;
  readonly value: number;
}

/**
 * The published part of a release: every count with Laplace noise, rounded and floored at 0, and only the groups
 * whose *noisy* value (before rounding) is at least the threshold. Suppressing on the exact count would make the
 * choice of published groups a function of exact data that no noise protects (a group appearing or not would tell
 * whether it holds k people); deciding on the noisy value is post-processing of the noisy count. No exact count
 * leaves this function.
 */
export function noisyGroups(counts: ReadonlyMap<GroupKey, number>, s: NoiseSettings): NoisyGroup[] {
  // Drawn in key order, so a seeded source gives the same release whatever order the engine returned rows in.
  const ordered = [...counts].sort(([a], [b]) => String(a).localeCompare(String(b)));
  const out: NoisyGroup[] = [];
  for (const [key, n] of ordered) {
    const noisy = n + laplace(s.scale, s.random);
    if (noisy >= s.threshold) out.push({ key, value: Math.max(0, Math.round(noisy)) });
  }
  return out;
}
