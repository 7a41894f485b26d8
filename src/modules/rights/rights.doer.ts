import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError } from '../../internal/errors/app-error.js';
import { DECLINE_EXPLANATIONS, SUPERVISORY_AUTHORITY_NOTE, type Corrections, type DeclineReason, type RequestParams, type RequestType, type RightsRequest } from './rights.js';
import type { RightsDeps } from './rights.deps.js';
import type { DeclinedRequest, RightsWork, WorkOutcome } from './rights.work.js';
import { collect } from './rights.collector.js';
import { writeExport } from './rights.export.js';
import { exportDir, removeExportFiles } from './rights.files.js';
import { accountEraser, type ErasureStep } from './rights.eraser.js';

const unavailable = (what: string): AppError => new AppError('UNAVAILABLE', `${what} is not available in this build`);

/** The work behind each request type, through the owning modules' services. */
export class RightsDoer implements RightsWork {
  /** Test seam of the crash test: called after each erasure step is recorded. */
  onErasureStep: ((index: number, step: ErasureStep) => void) | undefined;

  constructor(private readonly deps: RightsDeps) {}

  readonly checkTarget = async (subjectId: string, type: RequestType, params: RequestParams): Promise<DeclineReason | null> => {
    if (type === 'rectify') return this.deps.rectifiers ? this.deps.rectifiers.screen(subjectId, params.fields ?? []) : 'UNREALISTIC';
    if (type !== 'erase_partial') return null;
    // Fields of the account, or one record: never both in one request.
    if (params.fields !== undefined) return params.target || !this.deps.fieldEraser ? 'UNREALISTIC' : this.deps.fieldEraser.screen(params.fields);
    const target = params.target;
    const eraser = target ? this.deps.partialErasers?.[target.kind] : undefined;
    if (!target || !eraser) return 'UNREALISTIC';
    const state = await eraser.check(subjectId, target.id);
    return state === 'ok' ? null : state === 'not_yours' ? 'OTHERS_PRIVACY' : 'UNREALISTIC';
  };

  async run(ctx: ActorContext, request: RightsRequest, corrections: Corrections | undefined, holder?: string): Promise<WorkOutcome> {
    const { deps } = this;
    const subjectId = request.subjectId;
    switch (request.type) {
      case 'access':
        // The answer is GET /v1/me/data, always current; the request records that it was asked and answered.
        return { patch: {}, auditDetails: {} };
      case 'export': {
        const { base, items } = await writeExport(exportDir(deps), request.id, collect(deps, subjectId));
        const expires = new Date(Date.now() + deps.policy.requests.exportLinkMs).toISOString();
        // A run cut short (a crash while writing) left files of its own under this request: plaintext nobody links to.
        // Best effort after the commit: what stays is removed by the expiry sweep or erasure (both go by request id).
        const afterCommit = async (): Promise<void> => {
          try {
            removeExportFiles(exportDir(deps), request.id, base);
          } catch {
            // The request is complete either way.
          }
        };
        return { patch: { export_file: base, export_expires_at: expires }, auditDetails: { items }, afterCommit };
      }
      case 'rectify': {
        const fields = request.params.fields ?? [];
        if (!deps.rectifiers) throw unavailable('Correcting fields');
        // Every value is checked before any is applied; then all of them, and the corrections record, go in one transaction.
        await deps.rectifiers.apply(ctx, subjectId, request.id, Object.fromEntries(fields.map((f) => [f, corrections?.[f]])), holder);
        // Counts and tables: the field names with their record ids are in the owning modules' entries and the corrections record.
        return { patch: {}, auditDetails: { fields: fields.length, tables: [...new Set(fields.map((f) => f.split('.')[0]))].join(',') } };
      }
      case 'erase_partial': {
        const fields = request.params.fields;
        if (fields !== undefined) {
          if (!deps.fieldEraser) throw unavailable('Erasing fields');
          await deps.fieldEraser.erase(ctx, subjectId, fields);
          return { patch: {}, auditDetails: { fields: fields.length, tables: 'accounts' } };
        }
        const target = request.params.target!;
        const eraser = deps.partialErasers?.[target.kind];
        if (!eraser) throw unavailable(`Erasing a ${target.kind}`);
        await eraser.erase(ctx, subjectId, target.id);
        return { patch: {}, auditDetails: { target: target.kind } };
      }
      case 'erase_account': {
        const r = await accountEraser({ deps, ctx, requestId: request.id, subjectId, onStepDone: this.onErasureStep });
        return { patch: {}, auditDetails: { held: r.held, purgedRows: r.purgedRows } };
      }
      case 'restrict': {
        if (!deps.subjectStatus) throw unavailable('Restriction');
        const on = request.params.lift !== true;
        await deps.subjectStatus.setRestricted(deps.db, ctx, subjectId, on, 'dsr_restrict');
        return { patch: {}, auditDetails: { restricted: on } };
      }
      case 'object': {
        if (!deps.ledger) throw unavailable('Withdrawing consents');
        const given = (await deps.ledger.list(deps.db, subjectId)).filter((c) => c.granted);
        if (given.length > 0) {
          await deps.ledger.change(deps.db, ctx, { subjectId, changes: given.map((c) => ({ purpose: c.purpose, status: 'withdrawn' as const })), source: 'api', collectionMethod: 'dsr_object' });
        }
        return { patch: {}, auditDetails: { withdrawn: given.length } };
      }
    }
  }

  async extensionNotice(request: RightsRequest, dueAt: string, reason: string): Promise<((trx: Transaction<Database>) => Promise<void>) | undefined> {
    const { accounts, outbox } = this.deps;
    if (!accounts || !outbox) return undefined;
    const to = await accounts.emailOf(this.deps.db, request.subjectId, 'subject_rights').catch(() => undefined);
    if (!to) return undefined;
    const text =
      `Your ${request.type.replace('_', ' ')} request (reference ${request.id}) will be answered by ${dueAt.slice(0, 10)} instead of ${request.dueAt.slice(0, 10)}.\n\n` +
      `Why: ${reason}\n\nThis request is free of charge. You may lodge a complaint with a data protection supervisory authority.`;
    return async (trx) => {
      await outbox.enqueue(trx, { subjectId: request.subjectId, purpose: 'subject_rights', kind: 'rights_request_extended', message: { to, subject: 'Your privacy request will take longer', text } });
    };
  }

  /**
   * Tells the person why their request was declined and where to complain (R-DSR-4; GDPR Art. 12(4)), through the
   * outbox like the extension notice. The decline is only known inside its transaction (screening counts there), so
   * the address is read through that transaction: the account row, the decision and the key all come through `trx`,
   * never a second connection. The message holds the reason code and its fixed explanation, no staff free text.
   */
  async declineNotice(trx: Transaction<Database>, request: DeclinedRequest): Promise<void> {
    const { accounts, outbox } = this.deps;
    if (!accounts || !outbox) return;
    const to = await accounts.emailOf(trx, request.subjectId, 'subject_rights').catch(() => undefined);
    if (!to) return;
    const text =
      `Your ${request.type.replaceAll('_', ' ')} request (reference ${request.id}) of ${request.receivedAt.slice(0, 10)} has been declined.\n\n` +
      `Why: ${DECLINE_EXPLANATIONS[request.reason]} (reason code ${request.reason})\n\n` +
      `${SUPERVISORY_AUTHORITY_NOTE} You may also seek a judicial remedy. Making a request is free of charge.`;
    await outbox.enqueue(trx, { subjectId: request.subjectId, purpose: 'subject_rights', kind: 'rights_request_declined', message: { to, subject: 'Your privacy request was declined', text } });
  }
}

export const newRequestId = (): string => randomUUID();
