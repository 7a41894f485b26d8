import type { Insertable, Selectable, Updateable } from 'kysely';

/**
 * One row per account holder. Every personal column is vault ciphertext bound to
 * (table, field, subject, key version); the only plaintext-derived columns are the keyed blind
 * indexes used for sign-in lookup and uniqueness (R-ACC-1, R-SEC-4). Language, ZIP, area code and
 * time zone are non-personal alone but joined to a person here, so they are encrypted too (R-CLS-2).
 */
export interface AccountsTable {
  subject_id: string;
  email_index: string;
  phone_index: string;
  name: Buffer;
  email: Buffer;
  phone: Buffer;
  postal_address: Buffer;
  birth_date: Buffer;
  password_hash: Buffer;
  region: Buffer;
  language: Buffer;
  time_zone: Buffer;
  zip: Buffer | null;
  area_code: Buffer | null;
  location_precision: Buffer;
  /** R-KID-1: 1 when the birth date is under the policy's threshold for the region at sign-up. */
  is_child: number;
  created_at: string;
  updated_at: string;
}

/** A signed-in session. Only the SHA-256 of the bearer token is stored, never the token. */
export interface SessionsTable {
  id: string;
  subject_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  /** When the holder last re-proved who they are (R-DSR-3); null when never. */
  verified_at: string | null;
  /** The pending one-time step-up code, vault-encrypted; null when none. */
  step_up_code: Buffer | null;
  step_up_code_expires_at: string | null;
  step_up_attempts: number;
}

/**
 * Failed sign-ins per login (`login:` + the login's blind index, so an unknown login is throttled
 * exactly like a known one and nobody learns which logins exist) and per client IP (`ip:` + the
 * address's keyed blind index: the address itself is never stored).
 */
export interface SignInThrottleTable {
  key: string;
  failures: number;
  last_failure_at: string;
  locked_until: string | null;
}

export type AccountRow = Selectable<AccountsTable>;
export type NewAccountRow = Insertable<AccountsTable>;
export type AccountUpdate = Updateable<AccountsTable>;
export type SessionRow = Selectable<SessionsTable>;
export type ThrottleRow = Selectable<SignInThrottleTable>;
