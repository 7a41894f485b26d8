import { hash, verify, Algorithm } from '@node-rs/argon2';
import { AppError } from '../../internal/errors/app-error.js';

/** OWASP's argon2id profile: m = 19 MiB, t = 2, p = 1. */
const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** NIST SP 800-63B §5.1.1.2: at least 8 (we ask 10) characters, no composition rules; a cap stops hashing abuse. */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

/** Counts Unicode code points, as NIST asks, not UTF-16 units. */
export function checkPassword(password: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN) throw new AppError('PASSWORD_TOO_SHORT', `The password needs at least ${PASSWORD_MIN} characters`, { min: PASSWORD_MIN });
  if (length > PASSWORD_MAX) throw new AppError('VALIDATION_FAILED', `The password may have at most ${PASSWORD_MAX} characters`, { max: PASSWORD_MAX });
}

/** Normalised to NFKC so the same password typed on two keyboards matches (SP 800-63B §5.1.1.2). */
const normalise = (password: string): string => password.normalize('NFKC');

export function hashPassword(password: string): Promise<string> {
  return hash(normalise(password), ARGON2);
}

export async function verifyPassword(encoded: string, password: string): Promise<boolean> {
  try {
    return await verify(encoded, normalise(password));
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;

/**
 * Spends the same work as a real check when the login is unknown, so the answer time does not
 * tell whether an account exists.
 */
export async function burnPasswordCheck(password: string): Promise<false> {
  dummy ??= hash('not-a-real-password-0000', ARGON2);
  await verifyPassword(await dummy, password);
  return false;
}
