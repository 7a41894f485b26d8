import { AppError } from '../../internal/errors/app-error.js';

/** The largest sealed value we keep: enough for notes and keys, too small to become file storage. */
export const MAX_SEALED_LENGTH = 64 * 1024;

const B64URL = /^[A-Za-z0-9_-]*$/;

// Key management modes whose key the server could hold are refused: a sealed value must be opened
// only by a key the user derives or keeps (RFC 7518 §4). "dir" is allowed because the client derives
// the content key itself; public-key modes are allowed because only the user holds the private key.
const ALLOWED_ALG = /^(dir|PBES2-HS(256|384|512)\+A(128|192|256)KW|ECDH-ES(\+A(128|192|256)KW)?|RSA-OAEP(-256|-384|-512)?|A(128|192|256)(GCM)?KW)$/;
const ALLOWED_ENC = /^(A(128|192|256)GCM|A128CBC-HS256|A192CBC-HS384|A256CBC-HS512)$/;

export interface JweHeader {
  readonly alg: string;
  readonly enc: string;
}

/**
 * Checks that a string is a JWE in compact serialization (RFC 7516 §7.1): five base64url parts, a
 * protected header that is a JSON object naming `alg` and `enc`, a non-empty IV, ciphertext and tag.
 * Only the syntax is checked: the server has no key to open it, by design (R-SEC-5).
 *
 * @example parseJweCompact('eyJhbGciOi…..Kq3….5eym….XFBo…') // { alg: 'PBES2-HS256+A128KW', enc: 'A256GCM' }
 */
export function parseJweCompact(value: string): JweHeader {
  if (value.length > MAX_SEALED_LENGTH) throw invalid('The sealed value is larger than 64 KiB');
  const parts = value.split('.');
  if (parts.length !== 5 || !parts.every((p) => B64URL.test(p))) throw invalid('A JWE compact serialization has five base64url parts');
  const [header, , iv, ciphertext, tag] = parts as [string, string, string, string, string];
  if (header === '' || iv === '' || ciphertext === '' || tag === '') throw invalid('The protected header, IV, ciphertext and tag must not be empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    throw invalid('The protected header is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('The protected header is not a JSON object');
  const { alg, enc } = parsed as Record<string, unknown>;
  if (typeof alg !== 'string' || !ALLOWED_ALG.test(alg)) throw invalid('The protected header has no supported "alg"');
  if (typeof enc !== 'string' || !ALLOWED_ENC.test(enc)) throw invalid('The protected header has no supported "enc"');
  return { alg, enc };
}

const invalid = (message: string): AppError => new AppError('JWE_INVALID', message, { field: 'jwe' });
