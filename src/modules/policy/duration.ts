import type { DurationSpec } from './policy.schema.js';

const UNIT_MS = {
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  // Calendar-exact months and years are not needed for retention; these err on the long side by < 1 day.
  months: 30 * 86_400_000,
  years: 365 * 86_400_000,
} as const;

/** Milliseconds of a checked duration (the reference check guarantees period and unit). */
export function durationMs(d: DurationSpec): number {
  if (d.period === undefined || d.unit === undefined) throw new Error('duration without period or unit reached the compiler');
  return d.period * UNIT_MS[d.unit];
}

export const durationText = (d: DurationSpec): string => `${d.period} ${d.unit}`;
