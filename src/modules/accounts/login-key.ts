import { normaliseEmail, normalisePhone } from '../vault/blind-index.js';
import type { Vault } from '../vault/vault.service.js';

export interface LoginKey {
  readonly column: 'email_index' | 'phone_index';
  readonly index: string;
  /** The throttle key: the blind index, so the throttle table holds no login in clear. */
  readonly throttleKey: string;
}

/**
 * The blind index a login (e-mail, or phone in E.164) is found by; undefined when it is neither,
 * which the caller answers exactly like a wrong password (no user enumeration).
 */
export function loginKeyOf(vault: Vault, login: string): LoginKey | undefined {
  try {
    const column = login.includes('@') ? 'email_index' : 'phone_index';
    const index = column === 'email_index' ? vault.blindIndex('email', normaliseEmail(login)) : vault.blindIndex('phone', normalisePhone(login));
    return { column, index, throttleKey: `login:${index}` };
  } catch {
    return undefined;
  }
}
