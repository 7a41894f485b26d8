import { AppError } from '../../internal/errors/app-error.js';

/**
 * Validates an IBAN with the ISO 13616 mod-97 check and returns it without spaces, upper-cased.
 *
 * @example normaliseIban('de89 3704 0044 0532 0130 00') // 'DE89370400440532013000'
 */
export function normaliseIban(raw: string): string {
  const iban = raw.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) throw invalid();
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const value = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of value) remainder = (remainder * 10 + Number(d)) % 97;
  }
  if (remainder !== 1) throw invalid();
  return iban;
}

/** What the owner sees in routine listings: the country and the last four characters. */
export const maskIban = (iban: string): string => `${iban.slice(0, 2)}** **** ${iban.slice(-4)}`;

const invalid = (): AppError => new AppError('BANK_ACCOUNT_INVALID', 'The bank account number is not a valid IBAN', { field: 'bankAccount.iban' });
