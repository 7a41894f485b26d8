/**
 * Pure rules of the sign-in throttle: after `slowAfter` failures each further attempt must wait a
 * doubling delay; at `lockAfter` failures sign-in is locked for `lockMs`. A quiet period as long as
 * the lock forgives old failures. Kept pure so the arithmetic is testable without a clock.
 */
export interface ThrottleRule {
  readonly slowAfter: number;
  readonly lockAfter: number;
  readonly baseDelayMs: number;
  readonly lockMs: number;
}

export interface ThrottleState {
  readonly failures: number;
  readonly lastFailureAt: number;
  readonly lockedUntil: number | null;
}

export type ThrottleVerdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'slow'; readonly retryAfterMs: number }
  | { readonly kind: 'locked'; readonly retryAfterMs: number };

const FIFTEEN_MINUTES = 15 * 60_000;

/** Per login (account): slow after 5 failures (1 s, 2 s, 4 s, …), locked for 15 minutes at 10. */
export const LOGIN_RULE: ThrottleRule = Object.freeze({ slowAfter: 5, lockAfter: 10, baseDelayMs: 1000, lockMs: FIFTEEN_MINUTES });
/** Per client IP: looser, because many people can share one address behind NAT. */
export const IP_RULE: ThrottleRule = Object.freeze({ slowAfter: 20, lockAfter: 30, baseDelayMs: 1000, lockMs: FIFTEEN_MINUTES });

function live(state: ThrottleState | undefined, now: number, rule: ThrottleRule): ThrottleState | undefined {
  if (!state) return undefined;
  if (state.lockedUntil !== null && state.lockedUntil <= now) return undefined;
  if (state.lockedUntil === null && now - state.lastFailureAt > rule.lockMs) return undefined;
  return state;
}

/** May an attempt be made now? */
export function assess(state: ThrottleState | undefined, now: number, rule: ThrottleRule): ThrottleVerdict {
  const s = live(state, now, rule);
  if (!s) return { kind: 'ok' };
  if (s.lockedUntil !== null) return { kind: 'locked', retryAfterMs: s.lockedUntil - now };
  if (s.failures < rule.slowAfter) return { kind: 'ok' };
  const delay = Math.min(rule.baseDelayMs * 2 ** (s.failures - rule.slowAfter), rule.lockMs);
  const wait = s.lastFailureAt + delay - now;
  return wait > 0 ? { kind: 'slow', retryAfterMs: wait } : { kind: 'ok' };
}

/** The state after one more failure. */
export function afterFailure(state: ThrottleState | undefined, now: number, rule: ThrottleRule): ThrottleState {
  const failures = (live(state, now, rule)?.failures ?? 0) + 1;
  return { failures, lastFailureAt: now, lockedUntil: failures >= rule.lockAfter ? now + rule.lockMs : null };
}
