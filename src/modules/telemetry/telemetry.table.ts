import type { Insertable, Selectable } from 'kysely';

/**
 * A usage event of the User Experience Program (R-TEL-2). Deliberately no subject id, account id, device id,
 * IP or time of day: only the epoch pseudonym, the declared event and fields, coarse device attributes and the day.
 */
export interface TelemetryEventsTable {
  pseudonym: string;
  event: string;
  /** JSON object of the fields the policy declares for this event. */
  fields: string;
  model: string | null;
  firmware: string | null;
  region: string | null;
  day: string;
}

/** One row per pseudonym epoch; `secret` is set to null when the epoch ends, so old pseudonyms cannot be recomputed. */
export interface TelemetryEpochsTable {
  epoch: number;
  secret: Uint8Array | null;
  starts_at: string;
  ends_at: string;
  destroyed_at: string | null;
}

/** A person's salt for one epoch; deleting it (opt-out, end of epoch) breaks the link to their pseudonym. */
export interface TelemetryLinksTable {
  subject_id: string;
  epoch: number;
  salt: Uint8Array;
  created_at: string;
}

/** Device tokens issued at activation: only the SHA-256 of the token is kept. */
export interface DeviceTokensTable {
  token_hash: string;
  subject_id: string;
  /** The devices module's row id (not the hardware id), so the token can be revoked with the device. */
  device_ref: string;
  /** Sealed by the vault under the owner's key (R-CLS-2: a model joined to a person is personal). */
  model: Uint8Array | null;
  firmware: Uint8Array | null;
  region: Uint8Array | null;
  /** Plaintext of rows issued before migration 0602; sealed and set to null on first use or by the sweeper. */
  legacy_model: string | null;
  legacy_firmware: string | null;
  legacy_region: string | null;
  created_at: string;
  revoked_at: string | null;
}

export type TelemetryEventRow = Selectable<TelemetryEventsTable>;
export type NewTelemetryEventRow = Insertable<TelemetryEventsTable>;
export type DeviceTokenRow = Selectable<DeviceTokensTable>;
