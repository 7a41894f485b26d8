import net from 'node:net';

/** The kinds of personal data the free-text scanner looks for (R-CLS-3). */
export type PiiKind = 'email' | 'phone' | 'imei' | 'card' | 'ip';
export const PII_KINDS: readonly PiiKind[] = ['email', 'phone', 'imei', 'card', 'ip'];

export interface PiiHit {
  readonly kind: PiiKind;
  readonly start: number;
  readonly end: number;
}

/** Luhn check (ISO/IEC 7812-1), used by card numbers and IMEIs. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

// A dotted quad right after these words is a version or build number, not an address.
const VERSION_CONTEXT = /\b(?:v|version|ver|firmware|fw|build|release|sdk|api|os|android|ios|app|rom|miui|kernel|agent|bootloader|loader|current|target|patch|rev|revision|upgrade|ota)[\s:=_/#>-]{0,4}$/i;
export const looksLikeVersion = (text: string, start: number): boolean => VERSION_CONTEXT.test(text.slice(Math.max(0, start - 16), start));

const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40|\s?[([{]at[)\]}]\s?)[A-Za-z0-9-]+(?:(?:\.|\s?[([{]dot[)\]}]\s?)[A-Za-z0-9-]+)*(?:\.|\s?[([{]dot[)\]}]\s?)[A-Za-z]{2,24}\b/g;

export function findEmails(text: string): PiiHit[] {
  return [...text.matchAll(EMAIL)].map((m) => ({ kind: 'email' as const, start: m.index, end: m.index + m[0].length }));
}

const IPV4 = /(?<![\w.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![\w]|\.\d)/g;
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?:%[\w.]+)?(?![\w:])/g;
// Loopback and unspecified addresses name no one; flagging them would only add noise.
const NOT_PERSONAL_IPS = new Set(['0.0.0.0', '127.0.0.1', '255.255.255.255', '::', '::1']);

export function findIps(text: string): PiiHit[] {
  const hits: PiiHit[] = [];
  for (const m of text.matchAll(IPV4)) {
    // 255.x is a netmask, not a host.
    if (NOT_PERSONAL_IPS.has(m[0]) || m[0].startsWith('255.') || looksLikeVersion(text, m.index)) continue;
    hits.push({ kind: 'ip', start: m.index, end: m.index + m[0].length });
  }
  for (const m of text.matchAll(IPV6)) {
    const bare = m[0].replace(/%.*$/, '');
    if (!net.isIPv6(bare) || NOT_PERSONAL_IPS.has(bare) || !/[0-9A-Fa-f]{2}/.test(bare)) continue;
    hits.push({ kind: 'ip', start: m.index, end: m.index + m[0].length });
  }
  return hits;
}

// Issuer prefixes (IIN) of the card networks; a Luhn-valid run outside them is a timestamp or an id, not a card.
const CARD_PREFIX = /^(?:4|5[1-5]|222[1-9]|22[3-9]|2[3-6]|27[01]|2720|3[47]|30[0-5]|36|38|35|6011|64[4-9]|65|62|50|5[6-8]|6[07])/;
// IMEI reporting-body identifiers (first two digits of the TAC).
const IMEI_RBI = /^(?:01|10|30|33|35|44|45|49|50|51|52|53|54|86|91|98|99)/;
// 12–19 digits, optionally split by single spaces or dashes; not part of a longer word, hex number or dotted chain.
const DIGIT_RUN = /(?<![\w.-])\d(?:[ -]?\d){11,18}(?![\w]|[.-]\d)/g;

export function findCardsAndImeis(text: string): PiiHit[] {
  const hits: PiiHit[] = [];
  for (const m of text.matchAll(DIGIT_RUN)) {
    const digits = m[0].replace(/[ -]/g, '');
    if (!luhnValid(digits)) continue;
    const before = text.slice(Math.max(0, m.index - 24), m.index).toLowerCase();
    const span = { start: m.index, end: m.index + m[0].length };
    if (digits.length === 15 && (/imei/.test(before) || (IMEI_RBI.test(digits) && !/^3[47]/.test(digits)))) {
      hits.push({ kind: 'imei', ...span });
    } else if (digits.length >= 13 && CARD_PREFIX.test(digits)) {
      hits.push({ kind: 'card', ...span });
    }
  }
  return hits;
}
