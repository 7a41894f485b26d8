import { describe, expect, it } from 'vitest';
import { DekCache } from './dek-cache.js';

const key = (n: number) => ({ dek: Buffer.alloc(32, n), dekVersion: 1 });

describe('DekCache', () => {
  it('evicts the least recently used key beyond its size', () => {
    const c = new DekCache(2, 60_000);
    c.set('a', key(1));
    c.set('b', key(2));
    expect(c.get('a')).toBeDefined(); // a is now the most recent
    c.set('c', key(3));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')?.dek[0]).toBe(1);
    expect(c.get('c')?.dek[0]).toBe(3);
  });

  it('forgets keys after the TTL', async () => {
    const c = new DekCache(10, 20);
    c.set('a', key(1));
    await new Promise((r) => setTimeout(r, 40));
    expect(c.get('a')).toBeUndefined();
  });

  it('R-DSR-7: a shredded subject\'s key is not cached again by a read racing the shred', () => {
    const c = new DekCache(10, 60_000);
    c.set('a', key(1));
    c.forget('a');
    c.set('a', key(1));
    expect(c.get('a')).toBeUndefined();
  });
});
