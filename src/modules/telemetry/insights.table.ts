/**
 * The differential-privacy ledger of public/partner releases (R-AGG-1): one row per day (UTC), with the ε spent
 * by every release that could see the pseudonyms of that day's epoch. A release charges every day of each
 * pseudonym epoch it touches (chargedDays), so the rows of one epoch move together and the budget holds per
 * pseudonym; rows per day rather than per epoch keep the ledger meaningful if the policy's epoch length changes.
 * The budget belongs to the data, not to the name a caller gives a release, so renaming a release cannot reset it.
 */
export interface PrivacyBudgetDaysTable {
  /** YYYY-MM-DD, the same value as telemetry_events.day. */
  day: string;
  spent: number;
  updated_at: string;
}
