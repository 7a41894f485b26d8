import { Type, type Static } from '@sinclair/typebox';
import { DECLINE_EXPLANATIONS, RECORD_KEPT_NOTE, SUPERVISORY_AUTHORITY_NOTE, type RightsRequest } from '../../modules/rights/rights.js';

/** A request as the person (and the queue) sees it. Listed field by field: nothing else leaves. No fee field: requests are free (R-DSR-5). */
export const RequestView = Type.Object({
  id: Type.String(),
  type: Type.String(),
  status: Type.String(),
  receivedAt: Type.String(),
  dueAt: Type.String(),
  completedAt: Type.Union([Type.String(), Type.Null()]),
  verificationMethod: Type.Union([Type.String(), Type.Null()]),
  filedBy: Type.String(),
  trail: Type.Array(Type.Object({ status: Type.String(), at: Type.String(), reason: Type.Union([Type.String(), Type.Null()]) })),
  decline: Type.Optional(Type.Object({ reason: Type.String(), explanation: Type.String(), complaint: Type.String() })),
  overridden: Type.Optional(Type.Boolean()),
  export: Type.Optional(Type.Object({ json: Type.String(), html: Type.String(), expiresAt: Type.String() })),
  legalHolds: Type.Optional(Type.Array(Type.Object({ record: Type.String(), reason: Type.String(), until: Type.String() }))),
  notice: Type.Optional(Type.String()),
});
export type RequestViewT = Static<typeof RequestView>;

export function presentRequest(r: RightsRequest): RequestViewT {
  const view: RequestViewT = {
    id: r.id,
    type: r.type,
    status: r.status,
    receivedAt: r.receivedAt,
    dueAt: r.dueAt,
    completedAt: r.completedAt,
    verificationMethod: r.verificationMethod,
    // Staff ids are shown as "staff"/"service": the person learns who filed, not an employee's id.
    filedBy: r.filedBy.startsWith('user:') ? 'you' : r.filedBy.split(':')[0]!,
    trail: r.trail.map((t) => ({ status: t.status, at: t.at, reason: t.reason })),
  };
  if (r.declineReason) view.decline = { reason: r.declineReason, explanation: DECLINE_EXPLANATIONS[r.declineReason], complaint: SUPERVISORY_AUTHORITY_NOTE };
  if (r.overrideJustification) view.overridden = true;
  if (r.type === 'export' && r.exportFile && r.exportExpiresAt) {
    view.export = { json: `/v1/me/requests/${r.id}/export.json`, html: `/v1/me/requests/${r.id}/export.html`, expiresAt: r.exportExpiresAt };
  }
  if (r.type === 'erase_account' && r.status === 'completed') {
    view.legalHolds = r.legalHolds.map((h) => ({ record: h.record, reason: h.reason, until: h.until }));
    view.notice = RECORD_KEPT_NOTE + (r.legalHolds.length ? ' Some records must be kept by law; they are listed with the reason and the date they will be deleted, and may be used only for that legal obligation.' : '');
  }
  return view;
}
