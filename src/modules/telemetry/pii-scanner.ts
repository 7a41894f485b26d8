import { findPhoneNumbersInText, type CountryCode } from 'libphonenumber-js/max';
import { PII_KINDS, findCardsAndImeis, findEmails, findIps, looksLikeVersion, type PiiHit, type PiiKind } from './pii-patterns.js';

export type PiiCounts = Record<PiiKind, number>;

export interface ScanResult {
  /** The text with every hit replaced by `[kind]`. */
  readonly text: string;
  readonly counts: PiiCounts;
  readonly total: number;
}

// Where Smartmi sells most; a number in national format is read as one of these. International (+…) numbers need no guess.
const DEFAULT_COUNTRIES: readonly CountryCode[] = ['CN', 'US'];
const PHONE_CONTEXT = /(?:tel|phone|mobile|cell|call|contact|whatsapp|wechat|sms|number|no\.?|#|电话|手机|号码)[\s:=.#()-]{0,4}$/i;
const INTERNATIONAL = /(?<![\w+])\+\d{1,3}(?:[ -]?\(?\d{1,5}\)?){1,6}(?![\w])/g;
const CN_MOBILE = /^(?:\+?86)?1[3-9]\d{9}$/;

/**
 * Phone numbers, by libphonenumber's metadata (length and ranges per country). A run of bare digits
 * without separators or "+" is common in logs (error codes, INT_MAX, sizes), so it counts only when it is
 * a Chinese mobile number or follows a word such as "phone" or "tel".
 */
export function findPhones(text: string): PiiHit[] {
  const seen = new Map<number, PiiHit>();
  for (const country of DEFAULT_COUNTRIES) {
    for (const found of findPhoneNumbersInText(text, { defaultCountry: country, extended: false } as never)) {
      const raw = text.slice(found.startsAt, found.endsAt);
      // Column-aligned numbers (logcat "33.123  4567  4590") and the tail of a decimal are log layout, not a number someone dials.
      if (raw.includes('  ') || /[\d][.:]$/.test(text.slice(Math.max(0, found.startsAt - 2), found.startsAt))) continue;
      const bare = !/[\s().+-]/.test(raw) || /^\d+(?:\.\d+)+$/.test(raw);
      if (/^\d+(?:\.\d+){2,}$/.test(raw) && looksLikeVersion(text, found.startsAt)) continue;
      if (bare && !CN_MOBILE.test(raw.replace(/\D/g, '')) && !PHONE_CONTEXT.test(text.slice(Math.max(0, found.startsAt - 16), found.startsAt))) continue;
      if (!seen.has(found.startsAt)) seen.set(found.startsAt, { kind: 'phone', start: found.startsAt, end: found.endsAt });
    }
  }
  // "+" and 8–15 digits is an international number even where the metadata calls the range unassigned (fiction ranges, new ranges).
  for (const m of text.matchAll(INTERNATIONAL)) {
    const digits = m[0].replace(/\D/g, '').length;
    if (digits >= 8 && digits <= 15 && !seen.has(m.index)) seen.set(m.index, { kind: 'phone', start: m.index, end: m.index + m[0].length });
  }
  return [...seen.values()];
}

// When two detectors claim overlapping text the more specific wins (an IMEI is also a run of digits a phone parser likes).
const PRIORITY: Readonly<Record<PiiKind, number>> = { email: 0, ip: 1, card: 2, imei: 3, phone: 4 };

/** Every hit in the text, non-overlapping, in order. */
export function findPii(text: string): PiiHit[] {
  const all = [...findEmails(text), ...findIps(text), ...findCardsAndImeis(text), ...findPhones(text)];
  all.sort((a, b) => PRIORITY[a.kind] - PRIORITY[b.kind] || a.start - b.start);
  const kept: PiiHit[] = [];
  for (const hit of all) {
    if (!kept.some((k) => hit.start < k.end && k.start < hit.end)) kept.push(hit);
  }
  return kept.sort((a, b) => a.start - b.start);
}

export const emptyCounts = (): PiiCounts => Object.fromEntries(PII_KINDS.map((k) => [k, 0])) as PiiCounts;

/**
 * R-CLS-3: scans free text bound for a non-personal store and replaces every hit by its kind.
 *
 * @example redactPii('mail bob@example.com from 10.1.2.3').text // 'mail [email] from [ip]'
 */
export function redactPii(text: string): ScanResult {
  const hits = findPii(text);
  const counts = emptyCounts();
  let out = '';
  let at = 0;
  for (const hit of hits) {
    out += `${text.slice(at, hit.start)}[${hit.kind}]`;
    at = hit.end;
    counts[hit.kind] += 1;
  }
  return { text: out + text.slice(at), counts, total: hits.length };
}
