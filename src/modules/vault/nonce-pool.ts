import { randomFillSync } from 'node:crypto';

// One CSPRNG call per 341 nonces instead of one per value: randomBytes() costs ~3 µs a call here, more than
// the AES-GCM work on a short field. Nonces are public, so holding them in a pool is harmless (node's
// randomUUID pools the same way). Never used for key material.
const POOL = Buffer.alloc(12 * 341);
let offset = POOL.length;

/** A fresh random 96-bit GCM nonce (a copy, safe to keep). */
export function nonce96(): Buffer {
  if (offset + 12 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const n = Buffer.from(POOL.subarray(offset, offset + 12));
  offset += 12;
  return n;
}
