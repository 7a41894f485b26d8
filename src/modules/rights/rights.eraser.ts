import type { ActorContext } from '../../internal/context.js';
import { isAppError } from '../../internal/errors/app-error.js';
import type { RightsDeps } from './rights.deps.js';
import { holdOrders } from './rights.holds.js';
import { purgeSubject } from './rights.purge.js';
import * as repo from './rights.repository.js';
import { deleteExportsOf } from './rights.files.js';

/** The steps of account erasure, in order. Each is recorded in `erasure_steps` when done; a re-run skips those. */
export const ERASURE_STEPS = ['hold', 'shred', 'exports', 'sessions', 'contacts', 'purge'] as const;
export type ErasureStep = (typeof ERASURE_STEPS)[number];

export interface EraserProps {
  readonly deps: RightsDeps;
  readonly ctx: ActorContext;
  readonly requestId: string;
  readonly subjectId: string;
  /** Called after each step is recorded (the crash test kills the process here). */
  readonly onStepDone?: ((index: number, step: ErasureStep) => void) | undefined;
}

export interface ErasureResult {
  readonly held: number;
  readonly purgedRows: number;
  readonly stepsRun: readonly ErasureStep[];
}

const vaultMissing = (e: unknown): boolean => isAppError(e) && e.code === 'NOT_FOUND';

/**
 * Account erasure (R-DSR-2, R-DSR-7), crash-safe and idempotent: every step either commits with its record in
 * `erasure_steps` (hold: per order; shred: key destruction + erased mark + step record in one transaction;
 * sessions: revocation + step record) or is harmless to repeat (contacts, purge are deletions). Every other
 * module's table is changed through that module's own operation. A run killed at any point finishes when run again.
 */
export async function accountEraser(p: EraserProps): Promise<ErasureResult> {
  const { deps, ctx, requestId, subjectId } = p;
  const done = await repo.stepsDone(deps.db, requestId);
  const stepsRun: ErasureStep[] = [];
  let held = 0;
  let purgedRows = 0;
  for (const [index, step] of ERASURE_STEPS.entries()) {
    if (done.has(step)) continue;
    const at = new Date().toISOString();
    switch (step) {
      case 'hold':
        held = await holdOrders(deps, ctx, subjectId, at);
        await repo.markStep(deps.db, requestId, subjectId, step, at);
        break;
      case 'shred':
        await shredStep(deps, ctx, requestId, subjectId, at);
        break;
      case 'exports':
        await deleteExportsOf(deps, subjectId);
        await repo.markStep(deps.db, requestId, subjectId, step, at);
        break;
      case 'sessions':
        await deps.db.transaction().execute(async (trx) => {
          await deps.sessions?.revokeAllFor(trx, ctx, subjectId);
          await deps.audit.append(trx, ctx, { action: 'rights.sessions_ended', subjectId, target: requestId });
          await repo.markStep(trx, requestId, subjectId, step, at);
        });
        break;
      case 'contacts':
        // Each shared contact has a key of its own: shredded and its row deleted by the contacts module.
        await deps.contacts?.eraseSharedBy(ctx, subjectId);
        await repo.markStep(deps.db, requestId, subjectId, step, at);
        break;
      case 'purge': {
        const removed = await purgeSubject(deps, subjectId);
        purgedRows = Object.values(removed).reduce((a, b) => a + b, 0);
        await deps.db.transaction().execute(async (trx) => {
          await deps.audit.append(trx, ctx, { action: 'rights.subject_purged', subjectId, target: requestId, details: { tables: Object.keys(removed).filter((t) => removed[t]! > 0), rows: purgedRows } });
          await repo.markStep(trx, requestId, subjectId, step, at);
        });
        break;
      }
    }
    stepsRun.push(step);
    p.onStepDone?.(index + 1, step);
  }
  return { held, purgedRows, stepsRun };
}

/**
 * The decisive step: once this commits, no copy of the person's data anywhere (backups included) decrypts.
 * Key destruction, the erased mark and the step record commit together; its cost does not grow with the
 * person's records (one key row, one status row), which `bench/rights.bench.ts` measures.
 */
export async function shredStep(deps: RightsDeps, ctx: ActorContext, requestId: string, subjectId: string, at: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    await deps.vault.shred(trx, ctx, subjectId).catch((e: unknown) => {
      if (!vaultMissing(e)) throw e;
    });
    await deps.subjectStatus?.markErased(trx, ctx, subjectId);
    await repo.markStep(trx, requestId, subjectId, 'shred', at);
  });
}
