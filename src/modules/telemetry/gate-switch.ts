import type { Decision, DecisionGate, DecisionInput } from '../consent/decision.js';
import type { CompiledPolicy } from '../policy/policy.js';

/**
 * The decision gate telemetry asks, replaceable once at start: `use(engine)` plugs in the consent module's
 * decision engine (the same instance the consent ledger invalidates). Until then it fails closed: every purpose
 * that rests on consent is refused with CONSENT_MISSING, so no usage event is ever accepted without an opt-in.
 */
export class GateSwitch implements DecisionGate {
  private target: DecisionGate | undefined;

  constructor(private readonly policy: CompiledPolicy) {}

  use(gate: DecisionGate): void {
    this.target = gate;
  }

  get wired(): boolean {
    return this.target !== undefined;
  }

  decide(input: DecisionInput, db?: Parameters<DecisionGate['decide']>[1]): Promise<Decision> {
    if (this.target) return this.target.decide(input, db);
    const purpose = this.policy.purposes.get(input.purpose);
    const base = { policyVersion: this.policy.version };
    if (!purpose) return Promise.resolve({ ...base, allow: false, reason: 'PURPOSE_UNDECLARED', legalBasis: null });
    if (!purpose.categories.has(input.category)) return Promise.resolve({ ...base, allow: false, reason: 'CATEGORY_NOT_ALLOWED_FOR_PURPOSE', legalBasis: purpose.legalBasis });
    if (purpose.needsConsent) return Promise.resolve({ ...base, allow: false, reason: 'CONSENT_MISSING', legalBasis: purpose.legalBasis });
    if (purpose.aggregatesOnly && input.aggregate !== true) return Promise.resolve({ ...base, allow: false, reason: 'AGGREGATES_ONLY', legalBasis: purpose.legalBasis });
    return Promise.resolve({ ...base, allow: true, reason: purpose.legalBasis === 'contract' ? 'ALLOWED_CONTRACT' : purpose.legalBasis === 'legal_obligation' ? 'ALLOWED_LEGAL_OBLIGATION' : 'ALLOWED_LEGITIMATE_INTEREST', legalBasis: purpose.legalBasis });
  }
}
