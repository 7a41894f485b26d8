import type { Selectable } from 'kysely';

/** Service API keys: only the SHA-256 of the key is stored; the key itself is shown once. */
export interface ApiKeysTable {
  id: string;
  name: string;
  key_hash: string;
  /** The first characters of the key, so that a person can tell keys apart without the secret. */
  prefix: string;
  created_at: string;
  revoked_at: string | null;
  /** `service` (decision API, aggregates) or `admin` (staff routes under /v1/admin). */
  scope: string;
}

export type ApiKeyRow = Selectable<ApiKeysTable>;
