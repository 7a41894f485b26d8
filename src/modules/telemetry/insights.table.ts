/**
 * The differential-privacy ledger of public/partner releases (R-AGG-1): one row per day (UTC) of telemetry that
 * any release has covered, with the ε all those releases spent together. The budget belongs to the data, not to
 * the name a caller gives a release, so renaming a release cannot reset it.
 */
export interface PrivacyBudgetDaysTable {
  /** YYYY-MM-DD, the same value as telemetry_events.day. */
  day: string;
  spent: number;
  updated_at: string;
}
