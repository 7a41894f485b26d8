/** The rights a person can exercise (R-DSR-1, -2, -6) and the life of a request (R-DSR-8). */
export const REQUEST_TYPES = ['access', 'export', 'rectify', 'erase_partial', 'erase_account', 'restrict', 'object'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export const REQUEST_STATUSES = ['received', 'verified', 'in_progress', 'completed', 'declined', 'extended'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** R-DSR-4: why a request may be declined. */
export const DECLINE_REASONS = ['REPETITIVE', 'EXCESSIVE', 'OTHERS_PRIVACY', 'UNREALISTIC'] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

/** Types that change or hand over data need a fresh re-verification (R-DSR-3). */
export const NEEDS_STEP_UP: ReadonlySet<RequestType> = new Set(['export', 'rectify', 'erase_partial', 'erase_account']);

/** What may be erased on its own (R-DSR-2, part). */
export type PartialTarget = { readonly kind: 'device'; readonly id: string } | { readonly kind: 'order_delivery'; readonly id: string } | { readonly kind: 'contact'; readonly id: string };

/** Request parameters: record ids and field names only, never personal values (they outlive erasure). */
export interface RequestParams {
  readonly target?: PartialTarget | undefined;
  /** rectify: the fields corrected; erase_partial: the account fields erased (instead of a target). See `FieldRef`. */
  readonly fields?: readonly string[] | undefined;
  readonly lift?: boolean | undefined;
}

/**
 * A field named in a request, as the policy names it (`table.field`), with the record for a table that holds several
 * of the person's: `accounts.email`, `orders.billing_address:<order id>`, `contacts.phone:<contact id>`. A part of a
 * structured field adds its key: `accounts.postal_address.line2`. Names and ids only, so they may be kept.
 */
export interface FieldRef {
  /** `table.field`, as in the policy's `fields:` map. */
  readonly field: string;
  /** The key inside a structured field, if any (`line2` of `accounts.postal_address`). */
  readonly part?: string | undefined;
  /** The record's id (an order, a contact); undefined for the account, of which a person has one. */
  readonly record?: string | undefined;
}

/** The grammar of `FieldRef` names; the HTTP layer checks it, `parseFieldRef` reads it. */
// Names only, never a value: a part is an identifier and a record id is a UUID (ours all are), so no phone number or
// address can pass as a field name into the request record, which outlives erasure.
export const FIELD_REF_PATTERN = '^[a-z_]+\\.[a-z_]+(\\.[a-z][A-Za-z0-9]{0,30})?(:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$';

/** Reads a field name of a request; undefined when it is not one. */
export function parseFieldRef(name: string): FieldRef | undefined {
  const m = new RegExp(FIELD_REF_PATTERN).exec(name);
  if (!m) return undefined;
  const [path = '', record] = name.split(':');
  const [table, field, part] = path.split('.');
  return { field: `${table}.${field}`, part, record };
}

/** How the person proved who they are, as the HTTP layer saw it. */
export interface Verification {
  /** When the session was last re-verified (step-up); undefined when never. */
  readonly stepUpAt?: string | undefined;
  /** Staff filing on a person's behalf attest how they checked identity. */
  readonly staffAttested?: boolean | undefined;
  /** How staff checked it (a code such as `id_document`, never the document itself). */
  readonly staffMethod?: StaffIdentityCheck | undefined;
}

export const STAFF_IDENTITY_CHECKS = ['id_document', 'signed_letter', 'callback_registered_phone', 'in_person'] as const;
export type StaffIdentityCheck = (typeof STAFF_IDENTITY_CHECKS)[number];

export interface LegalHold {
  readonly record: string;
  readonly reason: string;
  readonly until: string;
}

export interface TrailStep {
  readonly status: RequestStatus;
  readonly at: string;
  readonly actor: string;
  readonly reason: string | null;
}

export interface RightsRequest {
  readonly id: string;
  readonly subjectId: string;
  readonly type: RequestType;
  readonly status: RequestStatus;
  readonly receivedAt: string;
  readonly dueAt: string;
  readonly verificationMethod: string | null;
  readonly filedBy: string;
  readonly params: RequestParams;
  readonly declineReason: DeclineReason | null;
  readonly overrideJustification: string | null;
  readonly completedAt: string | null;
  readonly exportExpiresAt: string | null;
  readonly exportFile: string | null;
  readonly trail: readonly TrailStep[];
  /** Account erasure: the records kept for a legal reason, with reason and end date (R-DSR-2). */
  readonly legalHolds: readonly LegalHold[];
}

/** Rectification input: the new values travel with the call only and are never stored on the request. */
export type Corrections = Readonly<Record<string, unknown>>;

export const SUPERVISORY_AUTHORITY_NOTE =
  'You may lodge a complaint with a data protection supervisory authority, in particular in the country where you live or work.';

export const DECLINE_EXPLANATIONS: Readonly<Record<DeclineReason, string>> = {
  REPETITIVE: 'You have made as many requests of this kind as the policy allows in this period.',
  EXCESSIVE: 'You have too many requests open at the same time; we will answer those first.',
  OTHERS_PRIVACY: 'Answering would disclose or change the personal data of another person.',
  UNREALISTIC: 'The request names something we do not hold or cannot do.',
};

export const RECORD_KEPT_NOTE =
  'Your data has been erased. We keep a record of this request itself (its type, dates and status, no personal values) to show that we answered it.';
