import type { Generated, Insertable, Selectable } from 'kysely';

/** Append-only ledger of consent events (W3C DPV statuses). Never updated, never deleted (triggers refuse it). */
export interface ConsentEventsTable {
  id: string;
  subject_id: string;
  purpose: string;
  status: string;
  policy_version: string;
  policy_hash: string;
  source: string;
  collection_method: string;
  at: string;
  receipt_id: string;
}

/** The current state per subject and purpose, derived from the ledger (rebuilt by replaying it). */
export interface ConsentCurrentTable {
  subject_id: string;
  purpose: string;
  status: string;
  source: string;
  collection_method: string;
  event_id: string;
  at: string;
  /** ISO time after which a 'given' consent no longer counts; null when the policy sets no expiry. */
  expires_at: string | null;
}

/** Signed consent receipts (Kantara CR v1.1 payload as a compact JWS). */
export interface ConsentReceiptsTable {
  id: string;
  subject_id: string;
  at: string;
  jws: string;
}

/** The ES256 key pair that signs receipts; shared through the store so that every instance signs alike. */
export interface ConsentSigningKeysTable {
  kid: string;
  public_jwk: string;
  /** Empty: the private key is sealed in `private_sealed` (a key from before 0830 is sealed at the next start). */
  private_jwk: string;
  private_sealed: Buffer | null;
  /** The vault key (kind `service`) that seals `private_sealed`. */
  vault_key_id: string | null;
  created_at: string;
}

/** Decision inputs that are not consents: child, restriction, erasure. */
export interface SubjectStatusTable {
  subject_id: string;
  is_child: number;
  guardian_consent: number;
  restricted: number;
  restricted_reason: string | null;
  erased_at: string | null;
  updated_at: string;
}

export type ConsentEventRow = Selectable<ConsentEventsTable>;
export type NewConsentEventRow = Insertable<ConsentEventsTable>;
export type ConsentCurrentRow = Selectable<ConsentCurrentTable>;
export type SubjectStatusRow = Selectable<SubjectStatusTable>;

/** SQLite only: changes of decision inputs, polled by every process on the same file to drop its cached copy. */
export interface DecisionChangesTable {
  seq: Generated<number>;
  subject_id: string;
  at: string;
}
