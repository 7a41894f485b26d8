/** W3C DPV consent statuses (dpv:ConsentGiven, ConsentRefused, ConsentWithdrawn, ConsentExpired, ConsentRevoked). */
export const CONSENT_STATUSES = ['given', 'refused', 'withdrawn', 'expired', 'revoked'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** Where a consent event came from. `gpc` is a Global Privacy Control signal of the browser. */
export const CONSENT_SOURCES = ['web', 'app', 'device', 'api', 'gpc'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/** Collection method recorded when an opt-in explicitly overrides a GPC signal after confirmation. */
export const GPC_OVERRIDE_METHOD = 'explicit_opt_in_over_gpc';

export interface ConsentChange {
  readonly purpose: string;
  readonly status: ConsentStatus;
}

export interface ConsentChangeInput {
  readonly subjectId: string;
  readonly changes: readonly ConsentChange[];
  readonly source: ConsentSource;
  /** How it was collected, e.g. `privacy_center_toggle`, `cookie_banner`, `gpc_header`. */
  readonly collectionMethod: string;
  /** Time of the event; defaults to now (imports and tests of expiry set it). */
  readonly at?: Date;
}

/** The state of one opt-in purpose for one subject, as shown to that subject. */
export interface ConsentState {
  readonly purpose: string;
  readonly title: string;
  /** `not_asked` when the ledger holds nothing yet: every consent purpose starts denied. */
  readonly status: ConsentStatus | 'not_asked';
  readonly granted: boolean;
  readonly source: ConsentSource | null;
  readonly at: string | null;
  readonly expiresAt: string | null;
}

export interface ConsentChangeResult {
  readonly receiptId: string;
  readonly states: readonly ConsentState[];
}

/** One consent as the decision engine keeps it in memory. */
export interface ConsentSlot {
  readonly status: ConsentStatus;
  /** Epoch ms after which a 'given' consent no longer counts; Infinity when it never expires. */
  readonly expiresAt: number;
  /** True when the consent was given by explicitly overriding GPC: later GPC signals leave it alone. */
  readonly gpcOverride: boolean;
}

/** Everything the engine needs about one subject: flags and consents indexed by purpose number. */
export interface SubjectState {
  readonly erased: boolean;
  readonly restricted: boolean;
  readonly child: boolean;
  readonly consents: readonly (ConsentSlot | undefined)[];
}
