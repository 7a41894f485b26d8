import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * One row per subject, in the KEY STORE (an attached SQLite file / a separate PostgreSQL schema), never in the
 * data store: a backup of the data store must not hold the keys, or crypto-shredding would not reach it.
 * After a shred the row stays as a tombstone: no key, `shredded_at` set.
 */
export interface VaultKeysTable {
  subject_id: string;
  kind: string;
  /** The subject's DEK wrapped by KEK `kek_version`; null once shredded. */
  wrapped_dek: Buffer | null;
  kek_version: number | null;
  dek_version: Generated<number>;
  created_at: string;
  shredded_at: string | null;
  /** Set when the key was made ahead for the SQLite key reserve (key-reserve.ts); its claim is in `vault_claims`. */
  reserved_at: string | null;
}

/**
 * In the DATA store: which reserved keys were taken by a subject, written in the transaction that takes one
 * (SQLite only; see key-reserve.ts). A random id per row, nothing else.
 */
export interface VaultClaimsTable {
  subject_id: string;
  claimed_at: string;
}

export type VaultKeyRow = Selectable<VaultKeysTable>;
export type NewVaultKeyRow = Insertable<VaultKeysTable>;
