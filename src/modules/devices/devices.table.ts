import type { Insertable, Selectable } from 'kysely';

/**
 * One row per device of an owner, updated in place on re-activation (firmware update, factory reset),
 * so there is never more than the latest location (R-ACC-4, R-USE-7): no history table exists.
 * At most one of `location` (coarsened) and `precise_location` (by consent) is set.
 */
export interface DevicesTable {
  id: string;
  subject_id: string;
  device_id: Uint8Array;
  /** Keyed blind index of the device id (re-activation finds the row without decrypting); null only on rows from before it existed. */
  device_id_index: string | null;
  imei: Uint8Array;
  model: Uint8Array;
  firmware: Uint8Array;
  /** The device's own precision setting (R-CHO-3); null follows the account's setting. */
  location_precision: Uint8Array | null;
  location: Uint8Array | null;
  precise_location: Uint8Array | null;
  last_event: string;
  activated_at: string;
  updated_at: string;
}

export type DeviceRow = Selectable<DevicesTable>;
export type NewDeviceRow = Insertable<DevicesTable>;
