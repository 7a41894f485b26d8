import type { Insertable, Selectable } from 'kysely';

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed';

/**
 * Messages waiting for, or done with, delivery (R-USE-4). The whole message — recipient address,
 * subject and text — is one vault ciphertext under the recipient subject's key (field
 * `outbox.message`), so erasing the subject also makes their queued mail unreadable.
 */
export interface OutboxTable {
  id: string;
  subject_id: string;
  /** The purpose the message serves; delivery decrypts the message for it. */
  purpose: string;
  /** A template name such as `step_up_code`: says what kind of message, never what it says. */
  kind: string;
  message: Buffer;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: string;
  /** An error code (`ECONNREFUSED`, `SUBJECT_ERASED`), never a server reply that could echo an address. */
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;
