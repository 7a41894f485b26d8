import type { LegalBasis, PolicyDocument } from './policy.schema.js';

/** The policy compiled into flat, frozen lookup tables: no walking of the YAML per call. */
export interface CompiledCategory {
  readonly key: string;
  readonly personal: boolean;
  readonly description: string;
  readonly extension: boolean;
  /** Undefined while the account is active; otherwise milliseconds after `retentionAfter`. */
  readonly retentionMs: number | undefined;
  readonly retentionAfter: string;
  readonly retentionText: string;
}

export interface CompiledPurpose {
  readonly name: string;
  readonly title: string;
  readonly dataUse: string;
  readonly legalBasis: LegalBasis;
  readonly needsConsent: boolean;
  readonly consentExpiresMs: number | undefined;
  readonly categories: ReadonlySet<string>;
  readonly recipientTypes: readonly string[];
  readonly aggregatesOnly: boolean;
  readonly childAllowed: boolean;
  readonly gpcOptOut: boolean;
}

export interface RequestLimit {
  readonly max: number;
  readonly perMs: number;
}

export interface CompiledPolicy {
  readonly version: string;
  /** SHA-256 of the policy file's bytes, hex. */
  readonly hash: string;
  readonly name: string;
  readonly controller: PolicyDocument['controller'];
  readonly categories: ReadonlyMap<string, CompiledCategory>;
  readonly purposes: ReadonlyMap<string, CompiledPurpose>;
  /** `table.field` → category key (R-CLS-1). */
  readonly fields: ReadonlyMap<string, string>;
  readonly consentPurposes: readonly string[];
  readonly cookies: PolicyDocument['cookies'];
  readonly children: { readonly defaultThreshold: number; readonly regions: ReadonlyMap<string, number>; readonly erasureWithinMs: number };
  readonly requests: {
    readonly deadlineMs: number;
    readonly maxExtensionMs: number;
    readonly verificationWindowMs: number;
    readonly exportLinkMs: number;
    readonly limits: ReadonlyMap<string, RequestLimit>;
  };
  readonly telemetry: {
    readonly purpose: string;
    readonly crashPurpose: string;
    readonly pseudonymEpochMs: number;
    readonly minGroupSize: number;
    readonly epsilon: number;
    /** R-AGG-1: the chance of publishing a group whose key only one person brought (releases are (ε, δ)-DP). */
    readonly delta: number;
    /** R-AGG-1: the most ε that all releases able to see the pseudonyms of one epoch may spend together. */
    readonly budgetPerEpoch: number;
    /** R-AGG-1: a pseudonym counts in at most this many groups of one release (its L1 sensitivity). */
    readonly maxGroupsPerPseudonym: number;
    readonly accessLogIpTruncateAfterMs: number;
    readonly events: ReadonlyMap<string, Readonly<Record<string, 'string' | 'number' | 'boolean'>>>;
  };
  readonly revisions: { readonly noticePeriodMs: number };
  readonly recipientTypes: ReadonlyMap<string, string>;
  readonly document: PolicyDocument;
}
