import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import type { PostalAddress } from './account.js';

/** An ISO 3166-1 alpha-2 region that libphonenumber knows (it carries the full list). */
export function normaliseRegion(region: string, field = 'region'): string {
  const upper = region.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(upper) || !isSupportedCountry(upper)) throw errors.validation(`${field} must be an ISO 3166-1 country code such as DE or CN`, { field });
  return upper;
}

/** A BCP 47 language tag in canonical form (`en-gb` → `en-GB`). */
export function normaliseLanguage(language: string): string {
  try {
    const [canonical] = Intl.getCanonicalLocales(language.trim());
    if (canonical) return canonical;
  } catch {
    // RangeError: not a well-formed tag; answered below.
  }
  throw errors.validation('language must be a BCP 47 language tag such as en or zh-CN', { field: 'language' });
}

// Building an Intl.DateTimeFormat costs ~100 µs, most of an account's validation: valid spellings are
// remembered (a few hundred zones exist; capped so junk input cannot grow it).
const knownZones = new Map<string, string>();

/** An IANA time zone, in the spelling the runtime's tz database uses. */
export function normaliseTimeZone(timeZone: string): string {
  const given = timeZone.trim();
  const known = knownZones.get(given);
  if (known !== undefined) return known;
  let zone: string;
  try {
    zone = new Intl.DateTimeFormat('en', { timeZone: given }).resolvedOptions().timeZone;
  } catch {
    throw errors.validation('timeZone must be an IANA time zone such as Europe/Berlin', { field: 'timeZone' });
  }
  if (knownZones.size < 2000) knownZones.set(given, zone);
  return zone;
}

/** A real calendar date, not in the future and not before 1900. */
export function checkBirthDate(birthDate: string, now: Date): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  const valid = d !== undefined && d.toISOString().slice(0, 10) === birthDate;
  if (!valid) throw new AppError('BIRTH_DATE_INVALID', 'birthDate must be a calendar date written YYYY-MM-DD', { field: 'birthDate' });
  if (birthDate > now.toISOString().slice(0, 10)) throw new AppError('BIRTH_DATE_INVALID', 'birthDate may not be in the future', { field: 'birthDate' });
  if (birthDate < '1900-01-01') throw new AppError('BIRTH_DATE_INVALID', 'birthDate may not be before 1900', { field: 'birthDate' });
  return birthDate;
}

/** Completed years of age on `now` (UTC calendar). */
export function ageOn(birthDate: string, now: Date): number {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  const age = now.getUTCFullYear() - y;
  const hadBirthday = now.getUTCMonth() + 1 > m || (now.getUTCMonth() + 1 === m && now.getUTCDate() >= d);
  return hadBirthday ? age : age - 1;
}

/**
 * The area code (R-TEL-1) of an E.164 number: country code and the first national group as
 * libphonenumber groups it ("+44 20 7946 0958" → "+44 20"). Null when the number has no groups.
 */
export function areaCodeOf(e164: string): string | null {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return null;
  const groups = parsed.formatInternational().split(' ');
  return groups.length >= 3 ? `${groups[0]} ${groups[1]}` : null;
}

const clean = (s: string | undefined): string | undefined => {
  const t = s?.trim();
  return t === undefined || t === '' ? undefined : t;
};

/** Trims every line and checks the country; the ZIP is whatever `postalCode` holds. */
export function normaliseAddress(address: PostalAddress): PostalAddress {
  const line1 = clean(address.line1);
  const city = clean(address.city);
  if (!line1 || !city) throw errors.validation('postalAddress needs line1 and city', { field: 'postalAddress' });
  return {
    line1,
    line2: clean(address.line2),
    city,
    postalCode: clean(address.postalCode),
    region: clean(address.region),
    country: normaliseRegion(address.country, 'postalAddress.country'),
  };
}

export function normaliseName(name: string): string {
  const t = name.trim().normalize('NFC');
  if (t === '') throw errors.validation('name may not be empty', { field: 'name' });
  return t;
}
