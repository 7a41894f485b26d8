import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blindIndexOf, normaliseEmail, normalisePhone } from './blind-index.js';

describe('normal forms and blind indexes', () => {
  it('R-SEC-4: e-mails are trimmed and lower-cased; bad ones are refused with VALIDATION_FAILED', () => {
    expect(normaliseEmail('  Ana.B@Example.ORG\t')).toBe('ana.b@example.org');
    for (const bad of ['', 'ana', 'ana@', '@example.org', 'a b@example.org', 'ana@example', 'a@b@example.org', `${'x'.repeat(250)}@example.org`]) {
      expect(() => normaliseEmail(bad), bad).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
  });

  it('R-SEC-4: phones become E.164; a national number needs its region; bad ones are refused', () => {
    expect(normalisePhone('+49 (30) 123-4567')).toBe('+49301234567');
    expect(normalisePhone('030 1234567', 'de')).toBe('+49301234567');
    expect(normalisePhone('(201) 555-0123', 'US')).toBe('+12015550123');
    expect(() => normalisePhone('030 1234567')).toThrow(/country code/);
    expect(() => normalisePhone('+49 30', 'DE')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => normalisePhone('030 1234567', 'XX')).toThrow(/region/);
  });

  it('R-SEC-4: re-normalising the last result (validate, then index) gives the same answer and still checks the region', () => {
    const normal = normalisePhone('030 1234567', 'DE');
    expect(normalisePhone(normal, 'US')).toBe(normal);
    expect(() => normalisePhone(normal, 'XX')).toThrow(/region/);
    expect(() => normalisePhone('+49 30', 'DE')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(normalisePhone(normal)).toBe(normal);
    expect(blindIndexOf(randomBytes(32), 'phone', '+49 (30) 123-4567')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('R-SEC-4: the index depends on the key and the kind, and never contains the value', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const i = blindIndexOf(k1, 'email', 'ana@example.org');
    expect(blindIndexOf(k2, 'email', 'ana@example.org')).not.toBe(i);
    expect(blindIndexOf(k1, 'email', 'ANA@example.org ')).toBe(i);
    expect(blindIndexOf(k1, 'phone', '+49301234567')).not.toBe(blindIndexOf(k1, 'email', 'ana@example.org'));
    expect(i).not.toContain('ana');
  });
});
