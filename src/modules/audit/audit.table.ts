import type { Insertable, Selectable } from 'kysely';

/** One link of the hash chain. Details never hold personal values, only ids, field names and counts. */
export interface AuditLogTable {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject_id: string | null;
  purpose: string | null;
  target: string | null;
  details: string;
  policy_version: string;
  policy_hash: string;
  prev_hash: string;
  hash: string;
}

/** A single row holding the chain's head, locked by every append so that two writers cannot fork the chain. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export type AuditRow = Selectable<AuditLogTable>;
export type NewAuditRow = Insertable<AuditLogTable>;
