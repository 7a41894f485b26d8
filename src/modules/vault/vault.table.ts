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
}

export type VaultKeyRow = Selectable<VaultKeysTable>;
export type NewVaultKeyRow = Insertable<VaultKeysTable>;
