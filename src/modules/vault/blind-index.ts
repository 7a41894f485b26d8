import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { errors } from '../../internal/errors/app-error.js';
import type { BlindIndexKind } from './vault.js';

// RFC 5321 limits a path to 256 octets, so an address is at most 254; one "@", no spaces or controls.
const EMAIL = /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u;

/**
 * The one normal form of an e-mail address: trimmed and lower-cased (providers treat the local part
 * case-insensitively in practice, and two accounts differing only by case would be a trap).
 *
 * @example normaliseEmail('  Ana@Example.ORG ') // 'ana@example.org'
 */
export function normaliseEmail(value: string): string {
  const v = value.trim().toLowerCase();
  if (v.length > 254 || !EMAIL.test(v)) throw errors.validation('The e-mail address is not valid', { field: 'email' });
  return v;
}

/**
 * The one normal form of a phone number: E.164, validated against the full metadata of libphonenumber.
 * A number without a leading "+" needs the region it is written in.
 *
 * @example normalisePhone('030 1234567', 'DE') // '+49301234567'
 */
export function normalisePhone(value: string, defaultRegion?: string): string {
  const region = defaultRegion?.toUpperCase();
  if (region !== undefined && !isSupportedCountry(region)) throw errors.validation('The region of the phone number is not known', { field: 'region' });
  // Callers validate a number, then index the result: the second parse (about a third of an account's
  // vault cost) is skipped when the value is exactly the last valid E.164 result, which is its own normal
  // form whatever the region. One slot only, so no list of phone numbers builds up in memory.
  if (value === lastNormalPhone) return value;
  const parsed = parsePhoneNumberFromString(value.trim(), region);
  if (!parsed?.isValid()) {
    const hint = value.trim().startsWith('+') || region ? '' : ' (write it with the country code, e.g. +49…)';
    throw errors.validation(`The phone number is not valid${hint}`, { field: 'phone' });
  }
  lastNormalPhone = parsed.number;
  return parsed.number;
}

let lastNormalPhone: string | undefined;

/**
 * The one normal form of a client address for throttling: IPv4 as is (also when IPv4-mapped), IPv6 cut to
 * its /64, because one subscriber holds a whole /64 and could otherwise step to a fresh address per guess.
 *
 * @example normaliseIp('::ffff:192.0.2.7') // '192.0.2.7'; normaliseIp('2001:DB8::1') // '2001:db8:0:0::/64'
 */
export function normaliseIp(value: string): string {
  const v = value.trim().toLowerCase().split('%')[0]!;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(v)?.[1];
  if (mapped !== undefined) return mapped;
  if (isIP(v) !== 6) return v;
  const [head = '', tail = ''] = v.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  // A dotted IPv4 tail stands for two groups.
  const rightWidth = right.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = v.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - rightWidth)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** HMAC-SHA256 under the index key over kind and normal form, hex. Equal inputs ⇔ equal index (no plaintext kept). */
export function blindIndexOf(indexKey: Buffer, kind: BlindIndexKind, value: string, defaultRegion?: string): string {
  const normal = kind === 'email' ? normaliseEmail(value) : kind === 'phone' ? normalisePhone(value, defaultRegion) : kind === 'ip' ? normaliseIp(value) : value;
  return createHmac('sha256', indexKey).update(`${kind}\u0000${normal}`, 'utf8').digest('hex');
}
