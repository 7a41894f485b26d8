import type { Selectable } from 'kysely';

/**
 * A crash report (R-TEL-3). The body is free text already scanned and redacted (R-CLS-3), with the counts of
 * what was removed. Device id, IP and route data are sealed by the vault under the owner's key and opened only
 * for the crash_diagnostics purpose; the whole row is deleted after the policy's retention.
 */
export interface CrashReportsTable {
  id: string;
  subject_id: string;
  received_at: string;
  /** Sealed under the owner's key: beside subject_id even the model is personal (R-CLS-2). */
  model: Uint8Array | null;
  firmware: Uint8Array | null;
  body: string;
  /** JSON: hits redacted per kind. */
  pii_counts: string;
  device_id: Uint8Array | null;
  ip: Uint8Array | null;
  route: Uint8Array | null;
}

/** One HTTP request (R-TEL-4). `route` is the route pattern, never the raw URL with ids. */
export interface AccessLogTable {
  id: string;
  /** The signed-in person, when there was one. */
  subject_id: string | null;
  at: string;
  /** The full address of an anonymous request (the sweeper replaces it by `ip_prefix` after the policy's period); the prefix alone for a signed-in one. */
  ip: string;
  /** The /24 (IPv4) or /48 (IPv6) network, computed at write time; the sweeper replaces `ip` by it after the policy's period. */
  ip_prefix: string;
  /** A signed-in person's full address, sealed under their key: erasure's shred makes it unreadable, backups included. Dropped at truncation. */
  ip_sealed: Buffer | null;
  ip_truncated: number;
  browser: string | null;
  os: string | null;
  language: string | null;
  referrer: string | null;
  method: string;
  route: string;
  status: number;
  clickstream: string;
}

/** Pixel tokens put in e-mails (R-TEL-5): only the hash, the person and the message reference. */
export interface PixelTokensTable {
  token_hash: string;
  subject_id: string;
  message_ref: string;
  created_at: string;
}

/** An open, recorded only with the person's consent to email_open_tracking. */
export interface EmailOpensTable {
  id: string;
  subject_id: string;
  message_ref: string;
  opened_at: string;
}

export type CrashReportRow = Selectable<CrashReportsTable>;
export type AccessLogRow = Selectable<AccessLogTable>;
