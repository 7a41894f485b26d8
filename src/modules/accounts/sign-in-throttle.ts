import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { EngineKind } from '../../internal/db/engine.js';
import { AppError } from '../../internal/errors/app-error.js';
import { IP_RULE, LOGIN_RULE, afterFailure, assess, type ThrottleState, type ThrottleVerdict } from './sign-in-throttle.rules.js';
import * as repo from './sessions.repository.js';

const MAX_IPS = 100_000;

function refuse(verdict: ThrottleVerdict): void {
  if (verdict.kind === 'ok') return;
  const retryAfterSeconds = Math.ceil(verdict.retryAfterMs / 1000);
  if (verdict.kind === 'locked') throw new AppError('SIGN_IN_LOCKED', `Sign-in is locked after too many failures; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
  throw new AppError('SIGN_IN_THROTTLED', `Too many failed sign-ins; wait ${retryAfterSeconds} s`, { retryAfterSeconds });
}

/**
 * Slows down, then locks, sign-in per login and per client IP. Every attempt is counted as a failure
 * BEFORE the password is checked and forgiven after a success, so parallel guesses cannot slip
 * through between a check and its bookkeeping. Logins are keyed by their blind index (stored, shared
 * by every instance); IPs are kept in memory only, because an IP address is personal data.
 */
export class SignInThrottle {
  /** The time source; tests move it forward instead of sleeping through delays and locks. */
  clock: () => number = Date.now;
  private readonly ips = new Map<string, ThrottleState>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: EngineKind,
  ) {}

  /** Counts one attempt for the login and the IP, or throws SIGN_IN_THROTTLED (429) / SIGN_IN_LOCKED (423). */
  async attempt(loginKey: string, ip: string | undefined): Promise<void> {
    const now = this.clock();
    if (ip !== undefined) refuse(assess(this.ips.get(ip), now, IP_RULE));
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('sign_in_throttle').values({ key: loginKey, failures: 0, last_failure_at: new Date(0).toISOString(), locked_until: null }).onConflict((oc) => oc.column('key').doNothing()).execute();
      // PostgreSQL: the row lock serialises concurrent attempts on one login. SQLite serialises writers already.
      if (this.kind === 'postgres') await sql`SELECT 1 FROM sign_in_throttle WHERE key = ${loginKey} FOR UPDATE`.execute(trx);
      const row = await repo.findThrottle(trx, loginKey);
      const state = row && row.failures > 0 ? { failures: row.failures, lastFailureAt: Date.parse(row.last_failure_at), lockedUntil: row.locked_until ? Date.parse(row.locked_until) : null } : undefined;
      refuse(assess(state, now, LOGIN_RULE));
      const next = afterFailure(state, now, LOGIN_RULE);
      await repo.saveThrottle(trx, { key: loginKey, failures: next.failures, last_failure_at: new Date(next.lastFailureAt).toISOString(), locked_until: next.lockedUntil === null ? null : new Date(next.lockedUntil).toISOString() });
    });
    if (ip !== undefined) this.remember(ip, afterFailure(this.ips.get(ip), now, IP_RULE));
  }

  /** A correct password forgives the login's failures (the IP's count only decays: one good account proves little). */
  async succeeded(loginKey: string, ip: string | undefined): Promise<void> {
    await repo.clearThrottle(this.db, loginKey);
    const s = ip !== undefined ? this.ips.get(ip) : undefined;
    if (ip !== undefined && s) this.remember(ip, { ...s, failures: Math.max(0, s.failures - 1) });
  }

  /** Drops what no longer slows anyone down: rows past their lock or quiet period, and idle IPs. */
  async sweep(): Promise<number> {
    const now = this.clock();
    const quietSince = new Date(now - LOGIN_RULE.lockMs).toISOString();
    const r = await this.db
      .deleteFrom('sign_in_throttle')
      .where((eb) => eb.or([eb('locked_until', '<=', new Date(now).toISOString()), eb.and([eb('locked_until', 'is', null), eb('last_failure_at', '<', quietSince)])]))
      .executeTakeFirst();
    for (const [ip, state] of this.ips) if (assess(state, now, IP_RULE).kind === 'ok' && now - state.lastFailureAt > IP_RULE.lockMs) this.ips.delete(ip);
    return Number(r.numDeletedRows);
  }

  private remember(ip: string, state: ThrottleState): void {
    this.ips.delete(ip);
    this.ips.set(ip, state);
    // Oldest first out, so an address flood cannot grow memory without bound.
    if (this.ips.size > MAX_IPS) this.ips.delete(this.ips.keys().next().value as string);
  }
}
