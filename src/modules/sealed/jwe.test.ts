import { describe, expect, it } from 'vitest';
import { CompactEncrypt } from 'jose';
import { parseJweCompact } from './jwe.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('JWE compact syntax check', () => {
  it('R-SEC-5: accepts a real PBES2 JWE made by jose and refuses malformed ones', async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode('secret'))
      .setProtectedHeader({ alg: 'PBES2-HS256+A128KW', enc: 'A256GCM' })
      .encrypt(new TextEncoder().encode('a passphrase only the user knows'));
    expect(parseJweCompact(jwe)).toEqual({ alg: 'PBES2-HS256+A128KW', enc: 'A256GCM' });
    const [, key, iv, ct, tag] = jwe.split('.');
    const bad = [
      'not a jwe',
      jwe.split('.').slice(0, 4).join('.'),
      `${jwe}.x`,
      `.${key}.${iv}.${ct}.${tag}`,
      `${b64([1])}.${key}.${iv}.${ct}.${tag}`,
      `${b64({ alg: 'none', enc: 'A256GCM' })}.${key}.${iv}.${ct}.${tag}`,
      `${b64({ alg: 'dir', enc: 'XYZ' })}..${iv}.${ct}.${tag}`,
      `${b64({ alg: 'dir', enc: 'A256GCM' })}..${iv}.${ct}.`,
      `${b64({ alg: 'dir', enc: 'A256GCM' })}..${iv}.${ct}+/.${tag}`,
      `${b64({ alg: 'dir', enc: 'A256GCM' })}..${iv}.${'A'.repeat(70_000)}.${tag}`,
    ];
    for (const value of bad) expect(() => parseJweCompact(value)).toThrow(expect.objectContaining({ code: 'JWE_INVALID' }));
    expect(parseJweCompact(`${b64({ alg: 'dir', enc: 'A256GCM' })}..${iv}.${ct}.${tag}`).alg).toBe('dir');
  });
});
