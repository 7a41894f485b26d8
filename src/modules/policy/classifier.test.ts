import { describe, expect, it } from 'vitest';
import { loadPolicyFile } from './policy.loader.js';
import { categoryOfField, classifyRecord } from './classifier.js';
import { SEED_POLICY_FILE } from '../../../test/support/policy-text.js';
import { AppError } from '../../internal/errors/app-error.js';

const policy = loadPolicyFile(SEED_POLICY_FILE);

describe('classification', () => {
  it('R-CLS-1: a field the policy declares maps to its category; an undeclared one is refused', () => {
    expect(categoryOfField(policy, 'accounts', 'email')).toBe('user.contact.email');
    try {
      categoryOfField(policy, 'accounts', 'shoe_size');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe('UNDECLARED_FIELD');
    }
  });

  it('R-CLS-2: non-personal data joined to a subject is personal', () => {
    const nonPersonal = ['user.demographic.language', 'user.contact.address.postal_code', 'user.demographic.time_zone'];
    expect(classifyRecord(policy, nonPersonal, { linkedToSubject: false })).toBe('non_personal');
    expect(classifyRecord(policy, nonPersonal, { linkedToSubject: true })).toBe('personal');
    expect(classifyRecord(policy, [...nonPersonal, 'user.contact.email'], { linkedToSubject: false })).toBe('personal');
  });

  it('R-CLS-2: an unknown category is an error, never silently non-personal', () => {
    expect(() => classifyRecord(policy, ['user.mystery'], { linkedToSubject: false })).toThrow(/not declared/);
  });
});
