import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { LegalBasis } from '../policy/policy.schema.js';

/** Why a use of personal data was allowed or denied: stable codes, shown to engineers and auditors. */
export type DecisionReason =
  | 'ALLOWED_CONTRACT'
  | 'ALLOWED_LEGAL_OBLIGATION'
  | 'ALLOWED_LEGITIMATE_INTEREST'
  | 'ALLOWED_CONSENT'
  | 'PURPOSE_UNDECLARED'
  | 'CATEGORY_NOT_ALLOWED_FOR_PURPOSE'
  | 'CONSENT_MISSING'
  | 'CONSENT_WITHDRAWN'
  | 'CONSENT_EXPIRED'
  | 'AGGREGATES_ONLY'
  | 'SUBJECT_RESTRICTED'
  | 'SUBJECT_IS_CHILD'
  | 'SUBJECT_ERASED'
  /** The engine failed (store unreachable, bad input): nothing is ever allowed by default. */
  | 'DECISION_ERROR';

/** May this category of this subject's data be used for this purpose, now? */
export interface DecisionInput {
  readonly subjectId: string;
  readonly category: string;
  readonly purpose: string;
  /** True when the caller reads an aggregate (no rows of a subject): lets aggregates-only purposes through. */
  readonly aggregate?: boolean;
}

export interface Decision {
  readonly allow: boolean;
  readonly reason: DecisionReason;
  readonly legalBasis: LegalBasis | null;
  readonly policyVersion: string;
}

/** The only code that says yes. Implemented by the consent module's decision engine. */
export interface DecisionGate {
  /**
   * `db` is the caller's handle when it decides inside a transaction: on a cache miss the subject's state is read
   * through it (on SQLite a read through another handle would wait for the caller's own transaction for ever).
   */
  decide(input: DecisionInput, db?: Kysely<Database> | Transaction<Database>): Promise<Decision>;
}
