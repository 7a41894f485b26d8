import type { Selectable } from 'kysely';

/**
 * A value the user sealed on their side (R-SEC-5): a JWE compact string the server cannot open,
 * wrapped once more by the vault at rest. `name` is a short label chosen by the client.
 */
export interface SealedValuesTable {
  subject_id: string;
  name: string;
  value: Uint8Array;
  updated_at: string;
}

export type SealedRow = Selectable<SealedValuesTable>;
