import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { EngineKind } from '../../internal/db/engine.js';
import { AppError } from '../../internal/errors/app-error.js';
import { IP_RULE, LOGIN_RULE, afterFailure, assess, type ThrottleState, type ThrottleVerdict } from './sign-in-throttle.rules.js';
import * as repo from './sessions.repository.js';

/** A keyed hash of a client address (the vault's `ip` blind index): the store never holds the address. */
export type IpIndex = (ip: string) => string;

function refuse(verdict: ThrottleVerdict): void {
  if (verdict.kind === 'ok') return;
  const retryAfterSeconds = Math.ceil(verdict.retryAfterMs / 1000);
  if (verdict.kind === 'locked') throw new AppError('SIGN_IN_LOCKED', `Sign-in is locked after too many failures; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
  throw new AppError('SIGN_IN_THROTTLED', `Too many failed sign-ins; wait ${retryAfterSeconds} s`, { retryAfterSeconds });
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Slows down, then locks, sign-in per login and per client IP. Every attempt is counted as a failure
 * BEFORE the password is checked and forgiven after a success, so parallel guesses cannot slip
 * through between a check and its bookkeeping. Both counts live in the store, so they survive a restart
 * and every instance on the store sees them: logins keyed by their blind index, IPs by a keyed hash of
 * the address (an IP address is personal data, so it is never stored in clear).
 */
export class SignInThrottle {
  /** The time source; tests move it forward instead of sleeping through delays and locks. */
  clock: () => number = Date.now;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: EngineKind,
    private readonly ipIndex: IpIndex,
  ) {}

  /** Counts one attempt for the login and the IP, or throws SIGN_IN_THROTTLED (429) / SIGN_IN_LOCKED (423). */
  async attempt(loginKey: string, ip: string | undefined): Promise<void> {
    const now = this.clock();
    const ipKey = ip === undefined ? undefined : this.ipKeyOf(ip);
    await this.db.transaction().execute(async (trx) => {
      // The IP row is always locked before the login row, so two attempts never wait on each other in a cycle.
      const ipState = ipKey === undefined ? undefined : await this.lockedState(trx, ipKey);
      if (ipKey !== undefined) refuse(assess(ipState, now, IP_RULE));
      const loginState = await this.lockedState(trx, loginKey);
      refuse(assess(loginState, now, LOGIN_RULE));
      await this.save(trx, loginKey, afterFailure(loginState, now, LOGIN_RULE));
      if (ipKey !== undefined) await this.save(trx, ipKey, afterFailure(ipState, now, IP_RULE));
    });
  }

  /** A correct password forgives the login's failures (the IP's count only decays: one good account proves little). */
  async succeeded(loginKey: string, ip: string | undefined): Promise<void> {
    await repo.clearThrottle(this.db, loginKey);
    if (ip === undefined) return;
    await this.db
      .updateTable('sign_in_throttle')
      .set({ failures: sql<number>`failures - 1` })
      .where('key', '=', this.ipKeyOf(ip))
      .where('failures', '>', 0)
      .execute();
  }

  /** Drops what no longer slows anyone down: rows past their lock or their quiet period (logins and IPs alike). */
  async sweep(): Promise<number> {
    const now = this.clock();
    const quietSince = iso(now - Math.max(LOGIN_RULE.lockMs, IP_RULE.lockMs));
    const r = await this.db
      .deleteFrom('sign_in_throttle')
      .where((eb) => eb.or([eb('locked_until', '<=', iso(now)), eb.and([eb('locked_until', 'is', null), eb('last_failure_at', '<', quietSince)])]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  private ipKeyOf(ip: string): string {
    return `ip:${this.ipIndex(ip)}`;
  }

  /** The row's state, locked for this transaction (PostgreSQL row lock; SQLite serialises writers already). */
  private async lockedState(trx: Transaction<Database>, key: string): Promise<ThrottleState | undefined> {
    await trx.insertInto('sign_in_throttle').values({ key, failures: 0, last_failure_at: iso(0), locked_until: null }).onConflict((oc) => oc.column('key').doNothing()).execute();
    if (this.kind === 'postgres') await sql`SELECT 1 FROM sign_in_throttle WHERE key = ${key} FOR UPDATE`.execute(trx);
    const row = await repo.findThrottle(trx, key);
    return row && row.failures > 0 ? { failures: row.failures, lastFailureAt: Date.parse(row.last_failure_at), lockedUntil: row.locked_until ? Date.parse(row.locked_until) : null } : undefined;
  }

  private save(trx: Transaction<Database>, key: string, next: ThrottleState): Promise<void> {
    return repo.saveThrottle(trx, { key, failures: next.failures, last_failure_at: iso(next.lastFailureAt), locked_until: next.lockedUntil === null ? null : iso(next.lockedUntil) });
  }
}
