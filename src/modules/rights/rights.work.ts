import type { Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import type { Corrections, DeclineReason, RequestType, RightsRequest } from './rights.js';
import type { TargetCheck } from './rights.screening.js';
import type { RequestRow } from './rights.table.js';

/** What finishing a request changes on its row and adds to its audit entry (ids and counts only). */
export interface WorkOutcome {
  readonly patch: Partial<Pick<RequestRow, 'export_file' | 'export_expires_at'>>;
  readonly auditDetails: Record<string, string | number | boolean>;
  /** Runs once the completion has committed (an export removes files left by an earlier, interrupted run). */
  readonly afterCommit?: () => Promise<void>;
}

/** The work behind each request type, done through the services of the modules that own the data. */
export interface RightsWork {
  readonly checkTarget: TargetCheck;
  /** `holder`: the runner's claim on the request (rights.lease.ts); a correction commits only while it is still held. */
  run(ctx: ActorContext, request: RightsRequest, corrections: Corrections | undefined, holder?: string): Promise<WorkOutcome>;
  /**
   * Prepares the message that tells the person (through the outbox) that their request will take longer, and why.
   * The address is read before the caller's transaction opens (a read may need the store's only SQLite connection);
   * the returned writer queues the message inside it. Undefined when the person has no address any more.
   */
  extensionNotice(request: RightsRequest, dueAt: string, reason: string): Promise<((trx: Transaction<Database>) => Promise<void>) | undefined>;
  /**
   * R-DSR-4: queues, in the transaction that declines the request, the message telling the person why and that they
   * may complain to a supervisory authority. Nothing is queued when the person has no address any more.
   */
  declineNotice(trx: Transaction<Database>, request: DeclinedRequest): Promise<void>;
}

/** What the decline message names: the request and the reason code. */
export interface DeclinedRequest {
  readonly id: string;
  readonly subjectId: string;
  readonly type: RequestType;
  readonly receivedAt: string;
  readonly reason: DeclineReason;
}
