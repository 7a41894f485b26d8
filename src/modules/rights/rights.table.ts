import type { Insertable, Selectable } from 'kysely';

/**
 * One row per data subject request (R-DSR-8). `params` holds only record ids and field names, never a
 * personal value, so the record of a request can outlive the person's erasure. There is no fee column
 * anywhere: requests are free (R-DSR-5).
 */
export interface RightsRequestsTable {
  id: string;
  subject_id: string;
  type: string;
  status: string;
  received_at: string;
  due_at: string;
  /** The sum of extensions granted so far, in ms (≤ policy maxExtension). */
  extended_ms: number;
  /** How identity was checked: `session_step_up`, `session`, `staff_attested`. */
  verification_method: string | null;
  /** `user:<id>` or the staff/service actor who filed on the person's behalf. */
  filed_by: string;
  params: string;
  decline_reason: string | null;
  override_justification: string | null;
  completed_at: string | null;
  /** Export only: file name inside the data directory's exports folder and when the link expires. */
  export_file: string | null;
  export_expires_at: string | null;
  updated_at: string;
  /** Who is doing the work (`host:pid:instance`) and until when; null when nobody is (rights.lease.ts). */
  work_lease: string | null;
  work_lease_until: string | null;
}

/** The status trail of a request: one row per step, with the reason for declines and extensions. */
export interface RightsRequestTrailTable {
  id: string;
  request_id: string;
  /** Position on the trail: several steps can share a millisecond. */
  seq: number;
  subject_id: string;
  status: string;
  at: string;
  actor: string;
  reason: string | null;
}

/** Corrections made (R-DSR-1): which field, when: never the old or new value. Sharing passes them on. */
export interface RightsCorrectionsTable {
  id: string;
  subject_id: string;
  request_id: string;
  field: string;
  at: string;
}

/** Account erasure, step by step: a crashed run resumes from the first step not recorded here. */
export interface ErasureStepsTable {
  request_id: string;
  subject_id: string;
  step: string;
  done_at: string;
}

/** Records kept under a legal hold after erasure, listed to the person with reason and end date. */
export interface RightsLegalHoldsTable {
  subject_id: string;
  record_type: string;
  record_id: string;
  /** The vault subject whose key now seals the record: restricted, so only legal obligations may open it. */
  hold_subject_id: string;
  reason: string;
  until: string;
}

export type RequestRow = Selectable<RightsRequestsTable>;
export type NewRequestRow = Insertable<RightsRequestsTable>;
export type TrailRow = Selectable<RightsRequestTrailTable>;
export type CorrectionRow = Selectable<RightsCorrectionsTable>;
export type LegalHoldRow = Selectable<RightsLegalHoldsTable>;
