import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import { actorLabel, type ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { NEEDS_STEP_UP, type Corrections, type DeclineReason, type RequestParams, type RequestStatus, type RequestType, type RightsRequest, type Verification } from './rights.js';
import { screen } from './rights.screening.js';
import type { DeclinedRequest, RightsWork } from './rights.work.js';
import { toRequest } from './rights.mapper.js';
import * as repo from './rights.repository.js';
import { WorkLeases } from './rights.lease.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface FileInput {
  readonly subjectId: string;
  readonly type: RequestType;
  readonly params: RequestParams;
  readonly verification: Verification;
  /** Rectify only: the new values. They travel with the call and are never stored on the request. */
  readonly corrections?: Corrections | undefined;
}

/**
 * The life of a data subject request (R-DSR-8): received → screened (R-DSR-4) → verified (R-DSR-3) →
 * in_progress → completed | declined, each step on the trail and in the audit. The work itself is done
 * by `RightsWork`, through the services of the modules that own the data.
 */
export class RightsService {
  private readonly leases: WorkLeases;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly policy: CompiledPolicy,
    private readonly audit: AuditLog,
    private readonly work: RightsWork,
  ) {
    this.leases = new WorkLeases(db);
  }

  /** Files a request for the person (or for them, by staff) and does the work at once when it passes screening. */
  async file(ctx: ActorContext, input: FileInput): Promise<RightsRequest> {
    const method = this.verificationMethod(ctx, input.type, input.verification);
    const id = randomUUID();
    const now = new Date();
    const at = now.toISOString();
    const targetReason = await this.work.checkTarget(input.subjectId, input.type, input.params);
    const decline = await this.db.transaction().execute(async (trx) => {
      await repo.insertRequest(trx, {
        id, subject_id: input.subjectId, type: input.type, status: 'received', received_at: at,
        due_at: new Date(now.getTime() + this.policy.requests.deadlineMs).toISOString(), extended_ms: 0, verification_method: method,
        filed_by: actorLabel(ctx.actor), params: JSON.stringify(input.params), decline_reason: null, override_justification: null,
        completed_at: null, export_file: null, export_expires_at: null, updated_at: at,
      });
      await this.step(trx, ctx, id, input.subjectId, 'received', null, { type: input.type, filedBy: ctx.actor.type });
      const reason = await screen(trx, this.policy, { requestId: id, subjectId: input.subjectId, type: input.type, params: input.params, receivedAt: at }, targetReason);
      if (reason) await this.decline(trx, ctx, { id, subjectId: input.subjectId, type: input.type, receivedAt: at, reason });
      return reason;
    });
    if (decline) return this.get(id);
    return this.proceed(ctx, id, method, input.corrections);
  }

  /** Staff override of a decline, with a written justification (audited), then the work runs. */
  async override(ctx: ActorContext, id: string, justification: string): Promise<RightsRequest> {
    const request = await this.get(id);
    if (request.status !== 'declined') throw errors.conflict('Only a declined request can be overridden');
    // The new values of a correction are never stored, so there is nothing to replay: the person files again.
    if (request.type === 'rectify') throw errors.conflict('A declined correction cannot be replayed; ask the person to file it again');
    await this.db.transaction().execute(async (trx) => {
      // Conditional: of two overrides at once, one reopens the request and the other is told it is no longer declined.
      const reopened = await repo.updateRequestIf(trx, id, { status: ['declined'] }, { status: 'verified', override_justification: justification, decline_reason: null, updated_at: new Date().toISOString() });
      if (!reopened) throw errors.conflict('Only a declined request can be overridden');
      await this.audit.append(trx, ctx, { action: 'rights.decline_overridden', subjectId: request.subjectId, target: id, details: { type: request.type, justificationLength: justification.length } });
    });
    return this.proceed(ctx, id, request.verificationMethod ?? 'staff_attested', undefined);
  }

  /** R-DSR-4: staff decline an open request with a reason code; the person is told why and where to complain. */
  async declineOpen(ctx: ActorContext, id: string, reason: DeclineReason): Promise<RightsRequest> {
    const request = await this.get(id);
    if (request.status === 'completed' || request.status === 'declined') throw errors.conflict('The request is closed');
    await this.db.transaction().execute(async (trx) => {
      // Not while its work runs (it would end both declined and completed), nor once it has closed meanwhile.
      const open = await repo.updateRequestIf(trx, id, { notStatus: ['completed', 'declined'], idleAt: new Date().toISOString() }, { updated_at: new Date().toISOString() });
      if (!open) throw new AppError('REQUEST_BUSY', 'The request is being worked on or has just closed');
      await this.decline(trx, ctx, { ...request, reason });
    });
    return this.get(id);
  }

  /** R-DSR-8: extends the due date (in total at most the policy's maxExtension), with a reason; the person is told. */
  async extend(ctx: ActorContext, id: string, byMs: number, reason: string): Promise<RightsRequest> {
    const request = await this.get(id);
    if (request.status === 'completed' || request.status === 'declined') throw errors.conflict('The request is closed');
    const row = (await repo.requestById(this.db, id))!;
    const total = Number(row.extended_ms) + byMs;
    if (byMs <= 0 || total > this.policy.requests.maxExtensionMs) throw new AppError('EXTENSION_TOO_LONG', undefined, { maxExtensionMs: this.policy.requests.maxExtensionMs, alreadyMs: Number(row.extended_ms) });
    const dueAt = new Date(Date.parse(row.due_at) + byMs).toISOString();
    const notice = await this.work.extensionNotice(toRequest(row, []), dueAt, reason);
    await this.db.transaction().execute(async (trx) => {
      // Conditional on what was read: an extension racing another, or the request closing, is refused, not stacked.
      const extended = await repo.updateRequestIf(trx, id, { notStatus: ['completed', 'declined'], extendedMs: Number(row.extended_ms) }, { due_at: dueAt, extended_ms: total, updated_at: new Date().toISOString() });
      if (!extended) throw errors.conflict('The request changed meanwhile (closed or extended); read it again');
      await this.step(trx, ctx, id, row.subject_id, 'extended', reason, { byDays: Math.round(byMs / 86_400_000) });
      await notice?.(trx);
    });
    return this.get(id);
  }

  async get(id: string, db: Db = this.db): Promise<RightsRequest> {
    const row = await repo.requestById(db, id);
    if (!row) throw errors.notFound('The request');
    const holds = row.type === 'erase_account' ? (await repo.holdsOf(db, row.subject_id)).map((h) => ({ record: `${h.record_type}:${h.record_id}`, reason: h.reason, until: h.until })) : [];
    return toRequest(row, await repo.trailOf(db, [id]), holds);
  }

  /** A person's own request; another person's is "not found", never "forbidden". */
  async getOwn(subjectId: string, id: string): Promise<RightsRequest> {
    const r = await this.get(id).catch(() => undefined);
    if (!r || r.subjectId !== subjectId) throw errors.notFound('The request');
    return r;
  }

  async list(subjectId: string, db: Db = this.db): Promise<RightsRequest[]> {
    const rows = await repo.requestsOf(db, subjectId);
    const trail = await repo.trailOf(db, rows.map((r) => r.id));
    return rows.map((r) => toRequest(r, trail.filter((t) => t.request_id === r.id)));
  }

  async queue(filter: { status?: string | undefined; type?: string | undefined; overdue?: boolean | undefined; limit?: number | undefined }): Promise<RightsRequest[]> {
    const rows = await repo.queue(this.db, { status: filter.status, type: filter.type, overdueAt: filter.overdue ? new Date().toISOString() : undefined, limit: filter.limit ?? 200 });
    const trail = await repo.trailOf(this.db, rows.map((r) => r.id));
    return rows.map((r) => toRequest(r, trail.filter((t) => t.request_id === r.id)));
  }

  /** R-DSR-3: how identity was checked; refuses export, correction and erasure without a fresh step-up. */
  private verificationMethod(ctx: ActorContext, type: RequestType, v: Verification): string {
    if (ctx.actor.type === 'staff' || ctx.actor.type === 'service') {
      if (!v.staffAttested) throw new AppError('VERIFICATION_REQUIRED', 'Staff filing for a person must attest how they verified the person');
      return v.staffMethod ? `staff_attested:${v.staffMethod}` : 'staff_attested';
    }
    if (!NEEDS_STEP_UP.has(type)) return 'session';
    const at = v.stepUpAt ? Date.parse(v.stepUpAt) : NaN;
    if (!(Date.now() - at <= this.policy.requests.verificationWindowMs)) {
      throw new AppError('VERIFICATION_REQUIRED', 'Confirm it is you (password or one-time code) before this request', { windowMs: this.policy.requests.verificationWindowMs });
    }
    return 'session_step_up';
  }

  private async proceed(ctx: ActorContext, id: string, method: string, corrections: Corrections | undefined): Promise<RightsRequest> {
    const request = await this.db.transaction().execute(async (trx) => {
      const r = await this.get(id, trx);
      await this.step(trx, ctx, id, r.subjectId, 'verified', method, {});
      await this.step(trx, ctx, id, r.subjectId, 'in_progress', null, {});
      return r;
    });
    return this.finish(ctx, request, corrections);
  }

  /**
   * Finishes a request whose work was interrupted (a crash during erasure, a store outage): the work is
   * idempotent and resumes where it stopped. Used by `pledge rights run` and the admin queue.
   */
  async resume(ctx: ActorContext, id: string): Promise<RightsRequest> {
    const request = await this.get(id);
    if (request.status !== 'in_progress' && request.status !== 'extended') throw errors.conflict('Only a request in progress can be resumed');
    if (request.type === 'rectify') return this.closeInterruptedCorrection(ctx, request);
    return this.finish(ctx, request, undefined);
  }

  /**
   * A correction cut off after it started: its values are never kept, so it cannot be replayed. Its corrections and
   * their record commit in one transaction, so a recorded correction means the values were applied and the request
   * is completed; none means nothing was, and it is declined UNREALISTIC (the person is told to file it again).
   * Either way it closes, instead of stopping `pledge rights run` at every run.
   */
  private async closeInterruptedCorrection(ctx: ActorContext, request: RightsRequest): Promise<RightsRequest> {
    await this.leases.run(request.id, async (holder) => {
      await this.db.transaction().execute(async (trx) => {
        const applied = await repo.correctionCountOf(trx, request.id);
        const ours = await repo.updateRequestIf(trx, request.id, { status: ['in_progress', 'extended'], lease: holder }, { ...(applied > 0 ? { completed_at: new Date().toISOString() } : {}), work_lease: null, work_lease_until: null });
        if (!ours) throw new AppError('REQUEST_BUSY', 'Another process took this request over');
        if (applied > 0) await this.step(trx, ctx, request.id, request.subjectId, 'completed', null, { corrections: applied, resumed: true });
        else await this.decline(trx, ctx, { ...request, reason: 'UNREALISTIC' });
      });
    });
    return this.get(request.id);
  }

  /** Ids of requests whose work started but did not finish. */
  async unfinished(): Promise<string[]> {
    return (await this.queue({ status: 'in_progress' })).concat(await this.queue({ status: 'extended' })).filter((r) => r.trail.some((t) => t.status === 'in_progress')).map((r) => r.id);
  }

  private async finish(ctx: ActorContext, request: RightsRequest, corrections: Corrections | undefined): Promise<RightsRequest> {
    const id = request.id;
    await this.leases.run(id, async (holder) => {
      let outcome;
      try {
        outcome = await this.work.run(ctx, request, corrections, holder);
      } catch (e) {
        // A correction whose new value is refused (an invalid e-mail, a taken phone) cannot be resumed: its values
        // are not kept. It is closed as UNREALISTIC and the person gets the module's error to fix and file again.
        // Not when another runner took the request over: that one closes it.
        const lostClaim = e instanceof AppError && e.code === 'REQUEST_BUSY';
        if (request.type === 'rectify' && !lostClaim) await this.db.transaction().execute((trx) => this.decline(trx, ctx, { ...request, reason: 'UNREALISTIC' }));
        throw e;
      }
      await this.db.transaction().execute(async (trx) => {
        // Only while the claim is still ours: a runner stalled past its claim (another took over) must not complete too.
        const ours = await repo.updateRequestIf(trx, id, { status: ['in_progress', 'extended'], lease: holder }, { completed_at: new Date().toISOString(), ...outcome.patch, work_lease: null, work_lease_until: null });
        if (!ours) throw new AppError('REQUEST_BUSY', 'Another process took this request over');
        await this.step(trx, ctx, id, request.subjectId, 'completed', null, outcome.auditDetails);
      });
      await outcome.afterCommit?.();
    });
    return this.get(id);
  }

  /** Every decline (screening, staff, a refused correction) records the reason and tells the person, in one transaction. */
  private async decline(trx: Transaction<Database>, ctx: ActorContext, request: DeclinedRequest): Promise<void> {
    await repo.updateRequest(trx, request.id, { decline_reason: request.reason });
    await this.step(trx, ctx, request.id, request.subjectId, 'declined', request.reason, { reason: request.reason });
    await this.work.declineNotice(trx, request);
  }

  private async step(trx: Transaction<Database>, ctx: ActorContext, id: string, subjectId: string, status: RequestStatus, reason: string | null, details: Record<string, string | number | boolean>): Promise<void> {
    const at = new Date().toISOString();
    await repo.updateRequest(trx, id, { status, updated_at: at });
    await repo.addTrail(trx, { request_id: id, subject_id: subjectId, status, at, actor: actorLabel(ctx.actor), reason });
    // The reason of an extension is free text from staff: the audit gets its length, not its words.
    const safe: Record<string, string | number> = status === 'extended' ? { reasonLength: reason?.length ?? 0 } : status === 'declined' || status === 'verified' ? { reason: reason ?? '' } : {};
    await this.audit.append(trx, ctx, { action: `rights.request_${status}`, subjectId, target: id, details: { ...details, ...safe } });
  }
}
