import { createHash, randomBytes } from 'node:crypto';

/** How long a session lasts after sign-in; a new sign-in is needed after it. */
export const SESSION_TTL_MS = 12 * 60 * 60_000;

/**
 * The signed-in session as routes see it (`request.session`). `verifiedAt` is the last step-up
 * (R-DSR-3): password or e-mailed code re-proved within the session; null when never.
 */
export interface AuthSession {
  readonly id: string;
  readonly subjectId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly verifiedAt: string | null;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: string;
  readonly subjectId: string;
}

/** 256 random bits, base64url (43 characters). Shown once to the client, never stored. */
export const newToken = (): string => randomBytes(32).toString('base64url');

/** What the store keeps instead of the token. A fast hash suffices: the token has 256 bits of entropy. */
export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export const looksLikeToken = (token: string): boolean => /^[A-Za-z0-9_-]{43}$/.test(token);

/** True while the last step-up is within the policy's verification window. */
export function isStepUpFresh(session: Pick<AuthSession, 'verifiedAt'>, windowMs: number, now = Date.now()): boolean {
  return session.verifiedAt !== null && now - Date.parse(session.verifiedAt) <= windowMs;
}
