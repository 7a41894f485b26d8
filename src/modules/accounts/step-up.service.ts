import { randomInt, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { Vault } from '../vault/vault.service.js';
import type { Outbox } from '../notices/outbox.service.js';
import { stepUpCodeMail } from '../notices/templates.js';
import type { Accounts } from './accounts.service.js';
import type { Sessions } from './sessions.service.js';
import type { AuthSession } from './session.js';
import * as accounts from './accounts.repository.js';
import * as repo from './sessions.repository.js';

/** A one-time code is good for 10 minutes and 5 tries. */
export const CODE_TTL_MS = 10 * 60_000;
export const CODE_MAX_ATTEMPTS = 5;

const failed = (): AppError => new AppError('VERIFICATION_FAILED', 'The password or code is wrong or has expired');

export interface StepUpResult {
  readonly verifiedAt: string;
  readonly verifiedUntil: string;
}

/**
 * Step-up (R-DSR-3): the holder of a session re-proves who they are — with the password, or with a
 * six-digit code e-mailed to the account's address — and the session counts as verified for the
 * policy's verification window. Password guesses here go through the same throttle as sign-in.
 */
export class StepUp {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly vault: Vault,
    private readonly audit: AuditLog,
    private readonly policy: CompiledPolicy,
    private readonly sessions: Sessions,
    private readonly accounts: Accounts,
    private readonly outbox: Outbox,
  ) {}

  /** One of password or code, not both (the route's body allows either). */
  verify(ctx: ActorContext, session: AuthSession, proof: { readonly password?: string | undefined; readonly code?: string | undefined }): Promise<StepUpResult> {
    if ((proof.password === undefined) === (proof.code === undefined)) throw errors.validation('Send either password or code', { field: 'password' });
    return proof.password !== undefined ? this.withPassword(ctx, session, proof.password) : this.withCode(ctx, session, proof.code ?? '');
  }

  async withPassword(ctx: ActorContext, session: AuthSession, password: string): Promise<StepUpResult> {
    const key = `step_up:${session.subjectId}`;
    await this.sessions.throttle.attempt(key, ctx.ip);
    const account = await accounts.findById(this.db, session.subjectId);
    if (!account || !(await this.sessions.passwordMatches(this.db, session.subjectId, account.password_hash, password))) throw failed();
    await this.sessions.throttle.succeeded(key, ctx.ip);
    return this.markVerified(ctx, session, 'password');
  }

  /** Sends a fresh code (replacing any earlier one) through the outbox; delivery happens after the commit. */
  async sendCode(ctx: ActorContext, session: AuthSession): Promise<{ readonly expiresAt: string }> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(Date.now() + CODE_TTL_MS).toISOString();
    // Read (and decided on) before the transaction: on SQLite's single connection the decision engine
    // could not load the subject's state while the transaction holds it.
    const to = await this.accounts.emailOf(this.db, session.subjectId, 'verify_identity');
    await this.db.transaction().execute(async (trx) => {
      const sealed = await this.vault.encrypt(trx, session.subjectId, 'sessions', 'step_up_code', code);
      await repo.updateSession(trx, session.id, { step_up_code: sealed, step_up_code_expires_at: expiresAt, step_up_attempts: 0 });
      await this.outbox.enqueue(trx, { subjectId: session.subjectId, purpose: 'verify_identity', kind: 'step_up_code', message: stepUpCodeMail(to, code, CODE_TTL_MS) });
      await this.audit.append(trx, ctx, { action: 'session.step_up_code_sent', subjectId: session.subjectId, target: `session:${session.id}` });
    });
    this.outbox.kick();
    return { expiresAt };
  }

  async withCode(ctx: ActorContext, session: AuthSession, code: string): Promise<StepUpResult> {
    // Counted before comparing, in one conditional increment, so parallel guesses cannot exceed the limit.
    const row = await repo.takeStepUpAttempt(this.db, session.id, new Date().toISOString(), CODE_MAX_ATTEMPTS);
    if (!row) throw failed();
    const expected = Buffer.from(await this.vault.decrypt(this.db, session.subjectId, 'sessions', 'step_up_code', row.step_up_code, 'verify_identity'));
    const given = Buffer.from(code);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw failed();
    return this.markVerified(ctx, session, 'email_code');
  }

  private async markVerified(ctx: ActorContext, session: AuthSession, method: string): Promise<StepUpResult> {
    const now = Date.now();
    const verifiedAt = new Date(now).toISOString();
    await this.db.transaction().execute(async (trx) => {
      await repo.updateSession(trx, session.id, { verified_at: verifiedAt, step_up_code: null, step_up_code_expires_at: null, step_up_attempts: 0 });
      await this.audit.append(trx, ctx, { action: 'session.step_up', subjectId: session.subjectId, target: `session:${session.id}`, details: { method } });
    });
    return { verifiedAt, verifiedUntil: new Date(now + this.policy.requests.verificationWindowMs).toISOString() };
  }
}
