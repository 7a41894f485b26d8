import type { Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';

/** The address of a person a user shares with; free-form lines, every part personal. */
export interface ContactAddress {
  readonly line1: string;
  readonly line2?: string | undefined;
  readonly postalCode?: string | undefined;
  readonly city: string;
  readonly country: string;
}

export type ShareReason = 'share' | 'invite';

export interface NewContact {
  readonly name: string;
  readonly email: string;
  readonly phone?: string | undefined;
  readonly address?: ContactAddress | undefined;
  readonly reason: ShareReason;
}

/** A shared contact as the user who shared it sees it. */
export interface ContactView {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly phone: string | null;
  readonly address: ContactAddress | null;
  readonly reason: ShareReason;
  readonly status: 'pending' | 'accepted';
  readonly createdAt: string;
  /** When the person shared with accepted the invitation (R-ACC-3); null while pending. */
  readonly acceptedAt: string | null;
  /** When the contact is erased unless accepted (the policy's retention for third-party data); null once accepted. */
  readonly expiresAt: string | null;
}

/** The e-mail outbox as far as contacts need it (the notices module's Outbox). */
export interface ContactMailer {
  enqueue(db: Transaction<Database>, input: { subjectId: string; purpose: string; kind: string; message: { to: string; subject: string; text: string } }): Promise<string>;
  kick(): void;
}
