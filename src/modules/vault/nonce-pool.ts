import { randomFillSync } from 'node:crypto';

// One CSPRNG call per 341 nonces instead of one per value: randomBytes() costs ~3 µs a call here, more than
// the AES-GCM work on a short field. Nonces are public, so holding them in a pool is harmless (node's
// randomUUID pools the same way). Never used for key material.
const POOL = Buffer.alloc(12 * 341);
let offset = POOL.length;

/** Writes a fresh random 96-bit nonce into `target` at `at` (no allocation: sealed values are laid out in place). */
export function writeNonce96(target: Buffer, at: number): void {
  if (offset + 12 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  POOL.copy(target, at, offset, offset + 12);
  offset += 12;
}

// Data keys come from their own pool: one CSPRNG call per 128 keys (randomBytes(32) measured 5–12 µs a call,
// more than wrapping the key). Each key's bytes are wiped from the pool as they are handed out, so the pool
// only ever holds keys nobody has yet; the same generator (OpenSSL's RAND_bytes) as randomBytes.
const KEYS = Buffer.alloc(32 * 128);
let keyOffset = KEYS.length;

/** A fresh random 256-bit data key, in a buffer of its own. */
export function randomKey256(): Buffer {
  if (keyOffset + 32 > KEYS.length) {
    randomFillSync(KEYS);
    keyOffset = 0;
  }
  const key = Buffer.from(KEYS.subarray(keyOffset, keyOffset + 32));
  KEYS.fill(0, keyOffset, keyOffset + 32);
  keyOffset += 32;
  return key;
}
