import { AppError, isAppError } from '../../internal/errors/app-error.js';
import type { ErrorCode } from '../../internal/errors/codes.js';
import { normaliseEmail, normalisePhone } from '../vault/blind-index.js';
import type { AccountRow } from './accounts.table.js';
import { DEFAULT_LOCATION_PRECISION, LOCATION_PRECISIONS, type AccountProfile, type LocationPrecision, type PostalAddress } from './account.js';

/** The account fields the vault seals, by column name. */
export type SealedField = 'name' | 'email' | 'phone' | 'postal_address' | 'birth_date' | 'region' | 'language' | 'time_zone' | 'zip' | 'area_code' | 'location_precision';
export const PROFILE_FIELDS: readonly SealedField[] = ['name', 'email', 'phone', 'postal_address', 'birth_date', 'region', 'language', 'time_zone', 'zip', 'area_code', 'location_precision'];

function withCode<T>(code: ErrorCode, message: string, field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isAppError(e) && e.code === 'VALIDATION_FAILED') throw new AppError(code, message, { field });
    throw e;
  }
}

export const validEmail = (email: string): string => withCode('EMAIL_INVALID', 'The e-mail address is not valid', 'email', () => normaliseEmail(email));

/** A number without "+" is read in the account's region. */
export const validPhone = (phone: string, region: string): string => withCode('PHONE_INVALID', 'The phone number is not valid', 'phone', () => normalisePhone(phone, region));

export function parseAddress(json: string): PostalAddress {
  return JSON.parse(json) as PostalAddress;
}

export const precisionOf = (v: string | null): LocationPrecision => (LOCATION_PRECISIONS as readonly string[]).includes(v ?? '') ? (v as LocationPrecision) : DEFAULT_LOCATION_PRECISION;

/** Decrypted columns plus the row's plain metadata → the domain profile. */
export function toProfile(row: AccountRow, plain: Readonly<Record<SealedField, string | null>>): AccountProfile {
  return {
    id: row.subject_id,
    name: plain.name ?? '',
    email: plain.email ?? '',
    phone: plain.phone ?? '',
    postalAddress: parseAddress(plain.postal_address ?? '{}'),
    birthDate: plain.birth_date ?? '',
    region: plain.region ?? '',
    language: plain.language ?? '',
    timeZone: plain.time_zone ?? '',
    zip: plain.zip,
    areaCode: plain.area_code,
    locationPrecision: precisionOf(plain.location_precision),
    isChild: row.is_child === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
