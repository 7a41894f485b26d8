import { describe, expect, it } from 'vitest';
import { loadPolicyFile } from '../../src/modules/policy/policy.loader.js';
import { validateBatch } from '../../src/modules/telemetry/event-validator.js';
import { SEED_POLICY_FILE } from '../support/policy-text.js';
import { AppError } from '../../src/internal/errors/app-error.js';

const policy = loadPolicyFile(SEED_POLICY_FILE);
const NOW = Date.parse('2026-11-25T10:00:00Z');

function codeOf(events: unknown[]): string | undefined {
  try {
    validateBatch(policy, events, NOW);
    return undefined;
  } catch (e) {
    return e instanceof AppError ? `${e.code}@${String(e.details?.index)}` : 'THROWN';
  }
}

describe('R-TEL-2: telemetry events are validated against the policy', () => {
  it('R-TEL-2: a declared event with declared fields of the declared types is kept, reduced to its day', () => {
    const [e] = validateBatch(policy, [{ event: 'feature_used', at: '2026-11-24T23:59:59.999Z', fields: { feature: 'night_mode', durationMs: 1200 } }], NOW);
    expect(e).toEqual({ event: 'feature_used', day: '2026-11-24', fields: { feature: 'night_mode', durationMs: 1200 } });
  });

  it('R-TEL-2: undeclared events, undeclared fields, wrong types and extra envelope keys are refused with a code', () => {
    expect(codeOf([{ event: 'app_open' }, { event: 'location_ping', fields: {} }])).toBe('UNKNOWN_EVENT@1');
    expect(codeOf([{ event: 'app_open', fields: { screen: 'home', userId: 'u1' } }])).toBe('EVENT_FIELD_INVALID@0');
    expect(codeOf([{ event: 'filter_life', fields: { percent: '80' } }])).toBe('EVENT_FIELD_INVALID@0');
    expect(codeOf([{ event: 'filter_life', fields: { percent: 80 }, deviceId: 'abc' }])).toBe('EVENT_FIELD_INVALID@0');
    expect(codeOf([{ event: 'app_open', at: 'yesterday' }])).toBe('EVENT_FIELD_INVALID@0');
    expect(codeOf([{ event: 'app_open', fields: { toString: 'x' } }])).toBe('EVENT_FIELD_INVALID@0');
    expect(codeOf(['app_open'])).toBe('EVENT_FIELD_INVALID@0');
  });

  it('R-CLS-3: a string field hiding an e-mail, phone or IP refuses the event instead of storing it', () => {
    expect(codeOf([{ event: 'app_open', fields: { screen: 'profile of bob@example.com' } }])).toBe('PII_IN_EVENT@0');
    expect(codeOf([{ event: 'device_mode_changed', fields: { mode: 'call +44 20 7946 0958' } }])).toBe('PII_IN_EVENT@0');
    expect(codeOf([{ event: 'app_open', fields: { screen: 'settings_v2' } }])).toBeUndefined();
  });
});
