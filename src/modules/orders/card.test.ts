import { describe, expect, it } from 'vitest';
import { luhnValid } from './luhn.js';
import { cardBrand, tokeniseCard } from './card.js';
import { maskIban, normaliseIban } from './iban.js';

describe('payment details', () => {
  it('R-ACC-2: Luhn accepts test card numbers and refuses a one-digit typo', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('')).toBe(false);
    expect(luhnValid('4111 1111')).toBe(false);
  });

  it('R-ACC-2: a card becomes a random token with brand and last four; the number is not in it', () => {
    const a = tokeniseCard('4111 1111 1111 1111');
    const b = tokeniseCard('4111-1111-1111-1111');
    expect(a).toMatchObject({ brand: 'visa', last4: '1111' });
    expect(a.token).toMatch(/^tok_[A-Za-z0-9_-]{24}$/);
    expect(a.token).not.toBe(b.token);
    expect(JSON.stringify(a)).not.toContain('41111111');
    expect(cardBrand('5555555555554444')).toBe('mastercard');
    expect(cardBrand('378282246310005')).toBe('amex');
    expect(cardBrand('6011111111111117')).toBe('discover');
    expect(cardBrand('3530111333300000')).toBe('jcb');
  });

  it('R-ACC-2: a bad card number is refused with CARD_INVALID and the message does not echo it', () => {
    for (const bad of ['4111111111111112', '1234', 'abcd efgh ijkl mnop', '41111111111111111111']) {
      try {
        tokeniseCard(bad);
        expect.unreachable();
      } catch (e) {
        expect((e as { code: string }).code).toBe('CARD_INVALID');
        expect(String((e as Error).message)).not.toContain(bad);
      }
    }
  });

  it('R-ACC-2: IBANs are checked with mod-97 and masked in listings', () => {
    expect(normaliseIban('de89 3704 0044 0532 0130 00')).toBe('DE89370400440532013000');
    expect(() => normaliseIban('DE89370400440532013001')).toThrow(/IBAN/);
    expect(maskIban('DE89370400440532013000')).toBe('DE** **** 3000');
  });
});
