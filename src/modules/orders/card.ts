import { randomBytes } from 'node:crypto';
import { AppError } from '../../internal/errors/app-error.js';
import { luhnValid } from './luhn.js';

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'unionpay' | 'diners' | 'maestro' | 'unknown';

/** What we keep of a payment card: never the number, only a random token, the brand and the last four digits. */
export interface CardToken {
  readonly token: string;
  readonly brand: CardBrand;
  readonly last4: string;
}

// IIN ranges of the major schemes (first digits); order matters where ranges overlap.
const BRANDS: readonly (readonly [CardBrand, RegExp])[] = [
  ['amex', /^3[47]/],
  ['diners', /^3(0[0-5]|[689])/],
  ['jcb', /^35(2[89]|[3-8])/],
  ['visa', /^4/],
  ['mastercard', /^(5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720))/],
  ['discover', /^(6011|65|64[4-9])/],
  ['unionpay', /^62/],
  ['maestro', /^(50|5[6-9]|6)/],
];

export function cardBrand(pan: string): CardBrand {
  for (const [brand, re] of BRANDS) if (re.test(pan)) return brand;
  return 'unknown';
}

/**
 * Luhn-checks a card number and replaces it by a token. The token maps to nothing: Pledge is not a
 * vault for card numbers (PCI DSS scope stays with the payment processor), so the number is dropped here
 * and never reaches the store, a log or an error message.
 *
 * @example tokeniseCard('4111 1111 1111 1111') // { token: 'tok_…', brand: 'visa', last4: '1111' }
 */
export function tokeniseCard(cardNumber: string): CardToken {
  const pan = cardNumber.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(pan) || !luhnValid(pan)) {
    // The message names the field, never the value.
    throw new AppError('CARD_INVALID', 'The card number is not a valid payment card number', { field: 'card.number' });
  }
  return { token: `tok_${randomBytes(18).toString('base64url')}`, brand: cardBrand(pan), last4: pan.slice(-4) };
}
