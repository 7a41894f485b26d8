import type { AuditEntry } from '../audit/audit.service.js';
import { PROFILE_FIELDS } from './account.fields.js';
import type { PreparedAccount } from './accounts.service.js';
import type { NewAccountRow } from './accounts.table.js';

/** The sealed values of an account (vault output): every field but zip and area code is present. */
export type SealedAccountValues = Readonly<Record<(typeof PROFILE_FIELDS)[number] | 'password_hash', Buffer | null>>;

type RequiredSealed<T> = { [K in keyof T]: K extends 'zip' | 'area_code' ? Buffer | null : Buffer };

const SEALED_FIELDS = Object.freeze([...PROFILE_FIELDS, 'password_hash']);

/** The stored row of a new account: sign-up and import write exactly the same shape. */
export function newAccountRow(subjectId: string, p: PreparedAccount, sealed: SealedAccountValues): NewAccountRow {
  return {
    subject_id: subjectId,
    email_index: p.emailIndex,
    phone_index: p.phoneIndex,
    ...(sealed as RequiredSealed<SealedAccountValues>),
    is_child: p.isChild ? 1 : 0,
    created_at: p.at,
    updated_at: p.at,
  };
}

/** The audit entry of a new account: which fields were sealed, never their values. */
export function accountCreatedEntry(subjectId: string, p: PreparedAccount): AuditEntry {
  return { action: 'account.created', subjectId, details: { fields: SEALED_FIELDS, child: p.isChild } };
}
