import type { CompiledPolicy } from '../policy/policy.js';
import type { RetentionSweeper } from '../retention/retention.service.js';
import { purgeFinishedBefore } from './outbox.repository.js';

/** The policy category whose retention says how long a delivered (or given-up) e-mail is kept. */
export const SENT_EMAIL_CATEGORY = 'user.content.sent_email';

/**
 * Registers the outbox's retention with the one sweeper: messages delivered, or given up, longer ago than the
 * policy's span for sent e-mails are deleted, each run in one transaction with its audit entry. Messages still
 * pending are never deleted. A policy without that span (or with "while the account is active") keeps them until
 * the account's erasure purges them (R-DSR-7).
 */
export function registerOutboxSweep(sweeper: RetentionSweeper, policy: CompiledPolicy): void {
  const span = policy.categories.get(SENT_EMAIL_CATEGORY)?.retentionMs;
  if (span === undefined) return;
  sweeper.registerSweep('outbox.finished', async (db, now) => ({ removed: await purgeFinishedBefore(db, new Date(now.getTime() - span).toISOString()) }), { transaction: true });
}
