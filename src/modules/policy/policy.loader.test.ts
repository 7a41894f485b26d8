import { describe, expect, it } from 'vitest';
import { checkPolicyText } from './policy.loader.js';
import { formatProblem } from './policy-problems.js';
import { mutatedPolicy, seedPolicyText } from '../../../test/support/policy-text.js';

function problemsOf(text: string): string[] {
  const result = checkPolicyText(text);
  if (result.ok) throw new Error('expected the policy to be refused');
  return result.problems.map(formatProblem);
}

describe('policy loader', () => {
  it('R-CLS-1: the seed policy is valid and declares every category as personal or non-personal', () => {
    const result = checkPolicyText(seedPolicyText());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { policy } = result;
    expect(policy.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(policy.categories.get('user.contact.email')?.personal).toBe(true);
    expect(policy.categories.get('user.demographic.language')?.personal).toBe(false);
    expect(policy.categories.get('user.device.imei')?.extension).toBe(true);
    expect(policy.purposes.get('personalised_ads')?.needsConsent).toBe(true);
    expect(policy.purposes.get('provide_service')?.legalBasis).toBe('contract');
    expect(policy.children.defaultThreshold).toBe(13);
    expect(policy.requests.deadlineMs).toBe(30 * 86_400_000);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.document.purposes)).toBe(true);
  });

  it('R-USE-2: service, order, identity, security and fraud purposes need no opt-in', () => {
    const result = checkPolicyText(seedPolicyText());
    if (!result.ok) throw new Error('seed invalid');
    for (const name of ['provide_service', 'process_orders', 'verify_identity', 'security_fraud']) {
      const p = result.policy.purposes.get(name)!;
      expect(['contract', 'legitimate_interest']).toContain(p.legalBasis);
      expect(p.needsConsent).toBe(false);
    }
  });

  it('reports an unknown category with its path', () => {
    const text = mutatedPolicy((d) => d.purposes.personalised_ads.categories.splice(2, 0, 'user.contact.fax'));
    expect(problemsOf(text)).toContain('purposes.personalised_ads.categories[2]: unknown category user.contact.fax');
  });

  it('reports an unknown purpose with its path', () => {
    const text = mutatedPolicy((d) => (d.cookies.marketing = 'sell_to_brokers'));
    expect(problemsOf(text)).toContain('cookies.marketing: unknown purpose sell_to_brokers');
  });

  it('refuses a consent purpose that cannot be withdrawn', () => {
    const text = mutatedPolicy((d) => delete d.purposes.marketing_messages.consent.withdrawable);
    expect(problemsOf(text)).toContain('purposes.marketing_messages.consent.withdrawable: a purpose based on consent must let people withdraw it (withdrawable: true)');
  });

  it('refuses a retention without a unit', () => {
    const text = mutatedPolicy((d) => delete d.categories['user.device.ip_address'].retention.unit);
    expect(problemsOf(text)).toContain('categories["user.device.ip_address"].retention.unit: retention needs a unit (minutes, hours, days, months or years)');
  });

  it('refuses duplicate keys, naming the line', () => {
    const text = seedPolicyText().replace('  user.name: {', '  user.contact.email: { personal: true, description: dup, retention: { while: account_active } }\n  user.name: {');
    const problems = problemsOf(text);
    expect(problems.some((p) => /^line \d+: duplicate key/.test(p))).toBe(true);
  });

  it('refuses a personal category that no purpose uses', () => {
    const text = mutatedPolicy((d) => (d.categories['user.biometric'] = { personal: true, description: 'Fingerprints', retention: { while: 'account_active' } }));
    expect(problemsOf(text)).toContain('categories["user.biometric"]: personal category is used by no purpose: say why it is collected or remove it');
  });

  it('reports every problem at once, not only the first', () => {
    const text = mutatedPolicy((d) => {
      d.purposes.personalised_ads.categories.push('user.contact.fax');
      d.purposes.warranty.recipientTypes = ['data_broker'];
      d.fields['accounts.shoe_size'] = 'user.shoe_size';
    });
    const problems = problemsOf(text);
    expect(problems).toHaveLength(3);
    expect(problems).toContain('purposes.warranty.recipientTypes[0]: unknown recipient type data_broker');
    expect(problems).toContain('fields["accounts.shoe_size"]: unknown category user.shoe_size');
  });

  it('reports schema errors with their path', () => {
    const text = mutatedPolicy((d) => {
      d.purposes.warranty.legalBasis = 'because';
      d.children.ageThreshold = 'thirteen';
      d.purposes.warranty.colour = 'blue';
    });
    const problems = problemsOf(text);
    expect(problems.some((p) => p.startsWith('purposes.warranty.legalBasis:'))).toBe(true);
    expect(problems).toContain('children.ageThreshold: must be integer');
    expect(problems).toContain('purposes.warranty.colour: is not a known setting');
  });
});
