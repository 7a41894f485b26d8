import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { DeclineReason, RequestParams, RequestType } from './rights.js';
import * as repo from './rights.repository.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Open requests one person may have at once before new ones are declined as EXCESSIVE. A choice: every
 * type can be open together (7) with room to spare; more than that is flooding, not exercising rights.
 */
export const MAX_OPEN_REQUESTS = 10;

/** Asks the module that owns a target whether it exists and is the person's own. */
export type TargetCheck = (subjectId: string, type: RequestType, params: RequestParams) => Promise<DeclineReason | null>;

export interface ScreeningInput {
  readonly requestId: string;
  readonly subjectId: string;
  readonly type: RequestType;
  readonly params: RequestParams;
  readonly receivedAt: string;
}

/**
 * R-DSR-4: screening before any work. The request being screened is already recorded (so declined
 * requests are counted too: repeating the asking is what the limit is about).
 *  - REPETITIVE: more of this type in the period than `policy.requests.limits` allows;
 *  - EXCESSIVE: too many open at once;
 *  - OTHERS_PRIVACY / UNREALISTIC: the target belongs to someone else / does not exist (owning module says,
 *    asked before the screening transaction opens: its service reads on its own connection).
 */
export async function screen(db: Db, policy: CompiledPolicy, input: ScreeningInput, targetReason: DeclineReason | null): Promise<DeclineReason | null> {
  const limit = policy.requests.limits.get(input.type);
  if (limit) {
    const since = new Date(Date.parse(input.receivedAt) - limit.perMs).toISOString();
    if ((await repo.countSince(db, input.subjectId, input.type, since)) > limit.max) return 'REPETITIVE';
  }
  if ((await repo.countOpen(db, input.subjectId)) > MAX_OPEN_REQUESTS) return 'EXCESSIVE';
  return targetReason;
}
