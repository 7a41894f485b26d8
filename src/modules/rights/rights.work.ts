import type { Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import type { Corrections, RightsRequest } from './rights.js';
import type { TargetCheck } from './rights.screening.js';
import type { RequestRow } from './rights.table.js';

/** What finishing a request changes on its row and adds to its audit entry (ids and counts only). */
export interface WorkOutcome {
  readonly patch: Partial<Pick<RequestRow, 'export_file' | 'export_expires_at'>>;
  readonly auditDetails: Record<string, string | number | boolean>;
}

/** The work behind each request type, done through the services of the modules that own the data. */
export interface RightsWork {
  readonly checkTarget: TargetCheck;
  run(ctx: ActorContext, request: RightsRequest, corrections: Corrections | undefined): Promise<WorkOutcome>;
  /** Tells the person (through the outbox) that their request will take longer, and why. */
  notifyExtension(trx: Transaction<Database>, ctx: ActorContext, request: RightsRequest, dueAt: string, reason: string): Promise<void>;
}
