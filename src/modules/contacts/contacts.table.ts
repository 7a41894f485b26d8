import type { Insertable, Selectable } from 'kysely';

/**
 * A person a user shares with or invites (R-ACC-3). The contact is a data subject of its own: its
 * fields are encrypted under its own data key, so erasing it (on its request, or at expiry) shreds
 * exactly that key. `inviter_subject_id` links it to the account that shared; `email_index` (keyed
 * blind index) lets the invitee ask for erasure by address without any plaintext lookup.
 */
export interface ContactsTable {
  subject_id: string;
  inviter_subject_id: string;
  reason: 'share' | 'invite';
  status: 'pending' | 'accepted';
  email_index: string;
  name: Uint8Array;
  email: Uint8Array;
  phone: Uint8Array | null;
  address: Uint8Array | null;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  /** SHA-256 of the one-time invitation code mailed to the contact; null once used (or before codes existed). */
  accept_code_hash: string | null;
  /** The account that accepted the invitation (R-ACC-3: the contact is then linked to it). */
  accepted_by_subject_id: string | null;
}

/** Wrong invitation codes per acceptor account and per client IP (keyed hash), in a window that expires. */
export interface ContactAcceptFailuresTable {
  key: string;
  failures: number;
  window_ends_at: string;
}

/** A pending erasure request by e-mail address: only a hash of the code, with expiry and attempts. */
export interface ContactErasureCodesTable {
  email_index: string;
  code_hash: string;
  expires_at: string;
  attempts: number;
}

export type ContactRow = Selectable<ContactsTable>;
export type NewContactRow = Insertable<ContactsTable>;
