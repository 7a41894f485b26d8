import type { DeclineReason, LegalHold, RequestParams, RequestStatus, RequestType, RightsRequest } from './rights.js';
import type { RequestRow, TrailRow } from './rights.table.js';

/** Row → domain, explicitly field by field. */
export function toRequest(row: RequestRow, trail: readonly TrailRow[], legalHolds: readonly LegalHold[] = []): RightsRequest {
  return {
    id: row.id,
    subjectId: row.subject_id,
    type: row.type as RequestType,
    status: row.status as RequestStatus,
    receivedAt: row.received_at,
    dueAt: row.due_at,
    verificationMethod: row.verification_method,
    filedBy: row.filed_by,
    params: JSON.parse(row.params) as RequestParams,
    declineReason: row.decline_reason as DeclineReason | null,
    overrideJustification: row.override_justification,
    completedAt: row.completed_at,
    exportExpiresAt: row.export_expires_at,
    exportFile: row.export_file,
    legalHolds,
    trail: trail.map((t) => ({ status: t.status as RequestStatus, at: t.at, actor: t.actor, reason: t.reason })),
  };
}
