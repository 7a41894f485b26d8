import type { Decision, DecisionGate, DecisionInput, DecisionReason } from '../consent/decision.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { LegalBasis } from '../policy/policy.schema.js';

const ALLOWED: Record<LegalBasis, DecisionReason> = {
  contract: 'ALLOWED_CONTRACT',
  legal_obligation: 'ALLOWED_LEGAL_OBLIGATION',
  legitimate_interest: 'ALLOWED_LEGITIMATE_INTEREST',
  consent: 'ALLOWED_CONSENT',
};

/**
 * The interim gate (R-USE-1) until the consent module's decision engine replaces it: a read is allowed iff
 * the purpose is declared and lists the category. It does NOT check recorded consent, restriction or age —
 * that is the decision engine's job.
 */
export class PolicyOnlyGate implements DecisionGate {
  constructor(private readonly policy: CompiledPolicy) {}

  decide(input: DecisionInput): Promise<Decision> {
    const purpose = this.policy.purposes.get(input.purpose);
    const base = { policyVersion: this.policy.version };
    if (!purpose) return Promise.resolve({ ...base, allow: false, reason: 'PURPOSE_UNDECLARED', legalBasis: null });
    if (!purpose.categories.has(input.category)) {
      return Promise.resolve({ ...base, allow: false, reason: 'CATEGORY_NOT_ALLOWED_FOR_PURPOSE', legalBasis: purpose.legalBasis });
    }
    return Promise.resolve({ ...base, allow: true, reason: ALLOWED[purpose.legalBasis], legalBasis: purpose.legalBasis });
  }
}
