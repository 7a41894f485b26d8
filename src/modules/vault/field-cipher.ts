import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AppError } from '../../internal/errors/app-error.js';
import { writeNonce96 } from './nonce-pool.js';

/** Where a ciphertext belongs: bound into the GCM associated data, so a copy elsewhere fails to open. */
export interface FieldBinding {
  readonly table: string;
  readonly field: string;
  readonly subjectId: string;
  readonly dekVersion: number;
}

// Layout: format byte ‖ 96-bit nonce ‖ ciphertext ‖ 128-bit tag. The format byte lets us change the
// scheme later without guessing; it is also covered by the AAD.
const FORMAT = 1;
const NONCE = 12;
const TAG = 16;

// Length-prefixed, so ("a|b", "c") and ("a", "b|c") never produce the same associated data. Built by plain
// concatenation (no arrays per value): the bytes are exactly those of the first version, so old values open.
const lp = (p: string): string => `${Buffer.byteLength(p)}:${p}`;
const AAD_HEAD = lp(`pledge-field-v${FORMAT}`);

function associatedData(b: FieldBinding): Buffer {
  return Buffer.from(AAD_HEAD + lp(b.table) + lp(b.field) + lp(b.subjectId) + lp(String(b.dekVersion)), 'utf8');
}

/** AES-256-GCM with a fresh random nonce per value (2^32 values per key stay far below the collision bound). */
export function sealField(dek: Buffer, binding: FieldBinding, plaintext: string): Buffer {
  // GCM is a stream mode: the ciphertext is exactly as long as the plaintext, so the stored value is laid out
  // in one buffer up front and the nonce written straight into it.
  const out = Buffer.allocUnsafe(1 + NONCE + Buffer.byteLength(plaintext, 'utf8') + TAG);
  out[0] = FORMAT;
  writeNonce96(out, 1);
  const cipher = createCipheriv('aes-256-gcm', dek, out.subarray(1, 1 + NONCE));
  cipher.setAAD(associatedData(binding));
  const body = cipher.update(plaintext, 'utf8');
  const rest = cipher.final(); // empty for GCM
  if (body.length + rest.length !== out.length - 1 - NONCE - TAG) throw new Error('AES-GCM output length differs from its input');
  body.copy(out, 1 + NONCE);
  rest.copy(out, 1 + NONCE + body.length);
  cipher.getAuthTag().copy(out, out.length - TAG);
  return out;
}

/** Opens a sealed field; a wrong key, a tampered value or a value moved from elsewhere fails the tag check. */
export function openField(dek: Buffer, binding: FieldBinding, sealed: Buffer): string {
  if (sealed.length < 1 + NONCE + TAG || sealed[0] !== FORMAT) throw invalid(binding);
  const decipher = createDecipheriv('aes-256-gcm', dek, sealed.subarray(1, 1 + NONCE));
  decipher.setAAD(associatedData(binding));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(1 + NONCE, sealed.length - TAG)), decipher.final()]).toString('utf8');
  } catch (e) {
    throw invalid(binding, e);
  }
}

const invalid = (b: FieldBinding, cause?: unknown): AppError =>
  new AppError('CIPHERTEXT_INVALID', `The stored value of ${b.table}.${b.field} does not belong to this record or was altered`, { table: b.table, field: b.field }, { cause });
