import { describe, expect, it } from 'vitest';
import { LOGIN_RULE, afterFailure, assess, type ThrottleState } from './sign-in-throttle.rules.js';

describe('sign-in throttle rules', () => {
  it('lets 5 failures through, then doubles the wait, then locks at 10 for 15 minutes', () => {
    let s: ThrottleState | undefined;
    let now = 1_000_000;
    for (let i = 0; i < 5; i++) {
      expect(assess(s, now, LOGIN_RULE).kind).toBe('ok');
      s = afterFailure(s, now, LOGIN_RULE);
    }
    const waits: number[] = [];
    for (let i = 5; i < 10; i++) {
      const v = assess(s, now, LOGIN_RULE);
      expect(v.kind).toBe('slow');
      waits.push(v.kind === 'slow' ? v.retryAfterMs : 0);
      now += waits[waits.length - 1]!;
      expect(assess(s, now, LOGIN_RULE).kind).toBe('ok');
      s = afterFailure(s, now, LOGIN_RULE);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(assess(s, now, LOGIN_RULE)).toEqual({ kind: 'locked', retryAfterMs: 15 * 60_000 });
    expect(assess(s, now + 15 * 60_000, LOGIN_RULE).kind).toBe('ok');
    expect(afterFailure(s, now + 15 * 60_000, LOGIN_RULE).failures).toBe(1);
  });

  it('forgets failures after a quiet period', () => {
    const s = afterFailure(afterFailure(undefined, 0, LOGIN_RULE), 0, LOGIN_RULE);
    expect(afterFailure(s, 16 * 60_000, LOGIN_RULE).failures).toBe(1);
  });
});
