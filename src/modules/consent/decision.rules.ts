import { AppError } from '../../internal/errors/app-error.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { LegalBasis } from '../policy/policy.schema.js';
import type { Decision, DecisionReason } from './decision.js';
import type { ConsentSlot, ConsentStatus, SubjectState } from './consent.js';
import { GPC_OVERRIDE_METHOD } from './consent.js';
import type { ConsentCurrentRow, SubjectStatusRow } from './consent.table.js';

/**
 * One purpose flattened for the hot path: a set lookup for the category, booleans for the rules and
 * every possible answer built once and frozen, so a decision allocates nothing.
 */
export interface PurposeRule {
  readonly index: number;
  readonly name: string;
  readonly categories: ReadonlySet<string>;
  readonly aggregatesOnly: boolean;
  readonly legalObligation: boolean;
  readonly childAllowed: boolean;
  readonly needsConsent: boolean;
  readonly gpcOptOut: boolean;
  readonly expiresMs: number | undefined;
  readonly out: Readonly<Record<DecisionReason, Decision>>;
  readonly allowed: Decision;
}

export interface CompiledRules {
  readonly byName: ReadonlyMap<string, PurposeRule>;
  /** Every data category the policy declares (a purpose's own set is a subset). */
  readonly categories: ReadonlySet<string>;
  readonly list: readonly PurposeRule[];
  readonly undeclared: Decision;
  readonly error: Decision;
}

const REASONS: readonly DecisionReason[] = [
  'ALLOWED_CONTRACT', 'ALLOWED_LEGAL_OBLIGATION', 'ALLOWED_LEGITIMATE_INTEREST', 'ALLOWED_CONSENT', 'PURPOSE_UNDECLARED',
  'CATEGORY_NOT_ALLOWED_FOR_PURPOSE', 'CONSENT_MISSING', 'CONSENT_WITHDRAWN', 'CONSENT_EXPIRED', 'AGGREGATES_ONLY',
  'SUBJECT_RESTRICTED', 'SUBJECT_IS_CHILD', 'SUBJECT_ERASED', 'DECISION_ERROR',
];

const ALLOWED: Record<LegalBasis, DecisionReason> = {
  contract: 'ALLOWED_CONTRACT',
  legal_obligation: 'ALLOWED_LEGAL_OBLIGATION',
  legitimate_interest: 'ALLOWED_LEGITIMATE_INTEREST',
  consent: 'ALLOWED_CONSENT',
};

export function compileRules(policy: CompiledPolicy): CompiledRules {
  const policyVersion = policy.version;
  const list: PurposeRule[] = [];
  for (const p of policy.purposes.values()) {
    const out = {} as Record<DecisionReason, Decision>;
    for (const reason of REASONS) out[reason] = Object.freeze({ allow: reason.startsWith('ALLOWED_'), reason, legalBasis: p.legalBasis, policyVersion });
    list.push(Object.freeze({
      index: list.length,
      name: p.name,
      categories: p.categories,
      aggregatesOnly: p.aggregatesOnly,
      legalObligation: p.legalBasis === 'legal_obligation',
      childAllowed: p.childAllowed,
      needsConsent: p.needsConsent,
      gpcOptOut: p.gpcOptOut,
      expiresMs: p.consentExpiresMs,
      out: Object.freeze(out),
      allowed: out[ALLOWED[p.legalBasis]],
    }));
  }
  return Object.freeze({
    byName: new Map(list.map((r) => [r.name, r])),
    categories: new Set(policy.categories.keys()),
    list: Object.freeze(list),
    undeclared: Object.freeze({ allow: false, reason: 'PURPOSE_UNDECLARED', legalBasis: null, policyVersion }),
    error: Object.freeze({ allow: false, reason: 'DECISION_ERROR', legalBasis: null, policyVersion }),
  });
}

/** The part of a decision the policy alone settles, or undefined when the subject's state decides. */
export function fixedAnswer(rule: PurposeRule, category: string, aggregate: boolean | undefined): Decision | undefined {
  if (!rule.categories.has(category)) return rule.out.CATEGORY_NOT_ALLOWED_FOR_PURPOSE;
  // R-USE-3: an aggregates-only purpose never reads rows of a subject.
  if (rule.aggregatesOnly && aggregate !== true) return rule.out.AGGREGATES_ONLY;
  return undefined;
}

/** For callers that must name what the policy declares (the HTTP API): an unknown purpose is their error. */
export function knownRule(rules: CompiledRules, purpose: string): PurposeRule {
  const rule = rules.byName.get(purpose);
  if (rule === undefined) throw new AppError('UNKNOWN_PURPOSE', 'The purpose is not declared in the policy', { purpose });
  return rule;
}

export function assertKnownCategory(rules: CompiledRules, category: string): void {
  if (!rules.categories.has(category)) throw new AppError('UNKNOWN_CATEGORY', 'The data category is not declared in the policy', { category });
}

/** The subject-dependent rules, in order of precedence: erased, restricted, child, then consent. */
export function judge(rule: PurposeRule, s: SubjectState): Decision {
  if (s.erased) return rule.out.SUBJECT_ERASED;
  if (s.restricted && !rule.legalObligation) return rule.out.SUBJECT_RESTRICTED;
  // R-KID-2: a child is never used for these purposes, whatever consents are on record.
  if (s.child && !rule.childAllowed) return rule.out.SUBJECT_IS_CHILD;
  if (!rule.needsConsent) return rule.allowed;
  const c = s.consents[rule.index];
  if (c === undefined) return rule.out.CONSENT_MISSING;
  switch (c.status) {
    case 'given':
      // Date.now() only for purposes whose consent can expire: most checks skip the clock.
      return c.expiresAt !== Infinity && c.expiresAt <= Date.now() ? rule.out.CONSENT_EXPIRED : rule.out.ALLOWED_CONSENT;
    case 'withdrawn':
    case 'revoked':
      return rule.out.CONSENT_WITHDRAWN;
    case 'expired':
      return rule.out.CONSENT_EXPIRED;
    case 'refused':
      return rule.out.CONSENT_MISSING;
  }
}

export const EMPTY_STATE: SubjectState = Object.freeze({ erased: false, restricted: false, child: false, consents: Object.freeze([]) });

/** Builds the in-memory state from the subject_status row and the derived current consents. */
export function stateFromRows(rules: CompiledRules, status: SubjectStatusRow | undefined, rows: readonly ConsentCurrentRow[]): SubjectState {
  const consents: (ConsentSlot | undefined)[] = new Array<ConsentSlot | undefined>(rules.list.length).fill(undefined);
  for (const r of rows) {
    const rule = rules.byName.get(r.purpose);
    // A purpose dropped from the policy keeps its history but no longer counts.
    if (!rule) continue;
    consents[rule.index] = Object.freeze({
      status: r.status as ConsentStatus,
      expiresAt: r.expires_at ? Date.parse(r.expires_at) : Infinity,
      gpcOverride: r.collection_method === GPC_OVERRIDE_METHOD,
    });
  }
  return Object.freeze({
    erased: status?.erased_at !== null && status?.erased_at !== undefined,
    restricted: status?.restricted === 1,
    child: status?.is_child === 1,
    consents: Object.freeze(consents),
  });
}
