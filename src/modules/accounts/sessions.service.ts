import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, isAppError } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { Vault } from '../vault/vault.service.js';
import * as accounts from './accounts.repository.js';
import { loginKeyOf } from './login-key.js';
import { burnPasswordCheck, verifyPassword } from './password.js';
import { SESSION_TTL_MS, looksLikeToken, newToken, tokenHash, type AuthSession, type IssuedToken } from './session.js';
import type { SessionRow } from './accounts.table.js';
import type { SignInThrottle } from './sign-in-throttle.js';
import * as repo from './sessions.repository.js';

type Db = Kysely<Database> | Transaction<Database>;

const invalid = (): AppError => new AppError('INVALID_CREDENTIALS', 'The login or the password is wrong');

export const toAuthSession = (row: SessionRow): AuthSession => ({ id: row.id, subjectId: row.subject_id, createdAt: row.created_at, expiresAt: row.expires_at, verifiedAt: row.verified_at });

export const asUser = (ctx: ActorContext, subjectId: string): ActorContext => ({ ...ctx, actor: { type: 'user', id: subjectId } });

/** Sign-in, bearer-token sessions and sign-out (R-SEC-4: only token hashes are stored). */
export class Sessions {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly vault: Vault,
    private readonly audit: AuditLog,
    readonly throttle: SignInThrottle,
  ) {}

  /**
   * Unknown login, malformed login and wrong password get the same answer after the same work
   * (an argon2 verification), so the answer tells nobody whether an account exists.
   */
  async signIn(ctx: ActorContext, login: string, password: string): Promise<IssuedToken> {
    const key = loginKeyOf(this.vault, login);
    await this.throttle.attempt(key?.throttleKey ?? 'login:malformed', ctx.ip);
    const account = key ? await accounts.findByIndex(this.db, key.column, key.index) : undefined;
    const ok = account ? await this.passwordMatches(this.db, account.subject_id, account.password_hash, password) : await burnPasswordCheck(password);
    if (!ok || !account || !key) throw invalid();
    await this.throttle.succeeded(key.throttleKey, ctx.ip);
    const token = newToken();
    const now = this.throttle.clock();
    const expiresAt = new Date(now + SESSION_TTL_MS).toISOString();
    const id = randomUUID();
    await this.db.transaction().execute(async (trx) => {
      await repo.insertSession(trx, { id, subject_id: account.subject_id, token_hash: tokenHash(token), created_at: new Date(now).toISOString(), expires_at: expiresAt, verified_at: null, step_up_code: null, step_up_code_expires_at: null, step_up_attempts: 0 });
      await this.audit.append(trx, asUser(ctx, account.subject_id), { action: 'session.created', subjectId: account.subject_id, target: `session:${id}` });
    });
    return { token, expiresAt, subjectId: account.subject_id };
  }

  /** The live session of a bearer token, or undefined (unknown, malformed or expired). */
  async authenticate(token: string): Promise<AuthSession | undefined> {
    if (!looksLikeToken(token)) return undefined;
    const row = await repo.findLive(this.db, tokenHash(token), new Date(this.throttle.clock()).toISOString());
    return row ? toAuthSession(row) : undefined;
  }

  async signOut(ctx: ActorContext, session: AuthSession): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await repo.deleteSession(trx, session.id);
      await this.audit.append(trx, ctx, { action: 'session.revoked', subjectId: session.subjectId, target: `session:${session.id}`, details: { reason: 'sign_out' } });
    });
  }

  /** Revokes every other session of the subject, in the caller's transaction (after a password change). */
  async revokeOthers(trx: Transaction<Database>, ctx: ActorContext, subjectId: string, keepSessionId: string | undefined): Promise<number> {
    const revoked = await repo.deleteOthers(trx, subjectId, keepSessionId);
    await this.audit.append(trx, ctx, { action: 'session.revoked', subjectId, details: { reason: 'password_changed', count: revoked } });
    return revoked;
  }

  /** Ends every session of the subject, in the caller's transaction (account erasure): their tokens stop working at once. */
  async revokeAllFor(trx: Transaction<Database>, ctx: ActorContext, subjectId: string): Promise<number> {
    const revoked = await repo.deleteAllFor(trx, subjectId);
    await this.audit.append(trx, ctx, { action: 'session.revoked', subjectId, details: { reason: 'account_erased', count: revoked } });
    return revoked;
  }

  /** Checks a password against the stored (vault-encrypted) argon2id hash; an erased subject never matches. */
  async passwordMatches(db: Db, subjectId: string, sealedHash: Buffer, password: string): Promise<boolean> {
    try {
      return await verifyPassword(await this.vault.decrypt(db, subjectId, 'accounts', 'password_hash', sealedHash, 'verify_identity'), password);
    } catch (e) {
      if (isAppError(e) && e.code === 'SUBJECT_ERASED') return burnPasswordCheck(password);
      throw e;
    }
  }

  /** Housekeeping: drops expired sessions (their hashes are useless but still rows). */
  sweepExpired(): Promise<number> {
    return repo.deleteExpired(this.db, new Date(this.throttle.clock()).toISOString());
  }
}
