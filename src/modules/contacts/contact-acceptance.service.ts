import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Vault } from '../vault/vault.service.js';
import { userSubject } from '../orders/orders.service.js';
import { invitationCodeHash } from './invitation-code.js';
import * as repo from './contact-acceptance.repository.js';

const WINDOW_MS = 15 * 60_000;
/** Wrong codes allowed per window: per accepting account, and looser per client IP (shared addresses, NAT). */
const MAX_PER_ACCOUNT = 5;
const MAX_PER_IP = 20;

export interface AcceptedInvitation {
  readonly id: string;
  readonly reason: 'share' | 'invite';
  readonly acceptedAt: string;
}

const invalidCode = (): AppError => new AppError('INVITATION_CODE_INVALID', 'The invitation code is wrong or has already been used');

/**
 * Accepting an invitation (R-ACC-3): the person shared with types the one-time code we mailed them while
 * signed in to their (possibly brand-new) account. The contact is then accepted — it no longer expires
 * with the contact retention — and linked to that account; the sharer sees it accepted. Wrong codes are
 * counted per account and per client IP (keyed hash, never the address) and throttled.
 */
export class ContactAcceptance {
  /** The time source; tests move it forward instead of waiting out windows and expiries. */
  clock: () => number = Date.now;

  constructor(private readonly o: { readonly db: Kysely<Database>; readonly vault: Vault; readonly audit: AuditLog }) {}

  async accept(ctx: ActorContext, code: string): Promise<AcceptedInvitation> {
    const acceptor = userSubject(ctx);
    const now = this.clock();
    const at = new Date(now).toISOString();
    const keys = this.throttleKeys(acceptor, ctx.ip);
    await this.countAttempt(keys, now);
    const row = await repo.byCodeHash(this.o.db, invitationCodeHash(code));
    // A wrong or used code stays counted.
    if (!row || row.status !== 'pending') throw invalidCode();
    // Past its expiry the contact is only waiting for the sweep to shred it: the invitation is over.
    if (row.expires_at <= at) throw await this.notAWrongCode(keys, new AppError('INVITATION_EXPIRED', 'The invitation has expired; ask the person who shared with you to share again'));
    if (row.inviter_subject_id === acceptor) throw await this.notAWrongCode(keys, new AppError('INVITATION_OWN', 'This is an invitation you sent; the person you shared with accepts it'));
    return this.o.db.transaction().execute(async (trx) => {
      if (!(await repo.accept(trx, row.subject_id, acceptor, at))) throw invalidCode();
      await repo.clearFailures(trx, keys[0]!.key);
      for (const { key } of keys.slice(1)) await repo.uncountAttempt(trx, key);
      await this.o.audit.append(trx, ctx, { action: 'contacts.accepted', subjectId: row.subject_id, details: { inviter: row.inviter_subject_id, account: acceptor, reason: row.reason } });
      return { id: row.subject_id, reason: row.reason, acceptedAt: at };
    });
  }

  /** Removes failure windows that are over (run by the contacts retention sweep). */
  sweepFailures(now: Date): Promise<number> {
    return repo.deleteStaleFailures(this.o.db, now.toISOString());
  }

  private throttleKeys(acceptor: string, ip: string | undefined): { key: string; max: number }[] {
    const keys = [{ key: `subject:${acceptor}`, max: MAX_PER_ACCOUNT }];
    if (ip !== undefined) keys.push({ key: `ip:${this.o.vault.blindIndex('ip', ip)}`, max: MAX_PER_IP });
    return keys;
  }

  /**
   * Counts the attempt before the code is looked at, in one transaction with the check: parallel guesses are
   * counted one after the other (the upsert's row lock) and cannot all slip under the limit, as they could when
   * the check read the counts and the failures were written afterwards. Over the limit, the transaction rolls
   * back (a refused attempt is not counted) and the caller gets 429.
   */
  private async countAttempt(keys: readonly { key: string; max: number }[], now: number): Promise<void> {
    const at = new Date(now).toISOString();
    const windowEndsAt = new Date(now + WINDOW_MS).toISOString();
    await this.o.db.transaction().execute(async (trx) => {
      const over: string[] = [];
      for (const { key, max } of keys) {
        const counted = await repo.countAttempt(trx, key, at, windowEndsAt);
        if (counted.failures > max) over.push(counted.window_ends_at);
      }
      if (over.length === 0) return;
      const retryAfterSeconds = Math.ceil((Math.max(...over.map((w) => Date.parse(w))) - now) / 1000);
      throw new AppError('INVITATION_THROTTLED', `Too many wrong invitation codes; wait ${retryAfterSeconds} s`, { retryAfterSeconds });
    });
  }

  /** The code was right but the invitation cannot be accepted: the attempt is not a wrong code. */
  private async notAWrongCode(keys: readonly { key: string }[], error: AppError): Promise<AppError> {
    await this.o.db.transaction().execute(async (trx) => {
      for (const { key } of keys) await repo.uncountAttempt(trx, key);
    });
    return error;
  }
}
