import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { Vault } from '../vault/vault.service.js';
import type { DeviceEvent, DeviceView, StoredLocation } from './device.js';
import type { LocationPrecision } from './location.js';
import type { DeviceRow } from './devices.table.js';

type Db = Kysely<Database> | Transaction<Database>;

const buf = (v: Uint8Array | null): Buffer | null => (v === null ? null : Buffer.from(v));

/**
 * The stored location, read to coarsen it further (R-CHO-3). Carrying out the owner's own choice is
 * a subject right, so it reads under subject_rights even when the precise-location consent is gone.
 */
export async function storedLocationOf(vault: Vault, db: Db, row: DeviceRow): Promise<StoredLocation | null> {
  const f = await vault.decryptFields(db, row.subject_id, 'devices', { location: buf(row.location), precise_location: buf(row.precise_location) }, 'subject_rights');
  const text = f.precise_location ?? f.location;
  return text === null ? null : (JSON.parse(text) as StoredLocation);
}

/** A device as its owner sees it (right of access): identifiers, model, setting and the latest location only. */
export async function openDevice(vault: Vault, db: Db, row: DeviceRow, accountPrecision: LocationPrecision): Promise<DeviceView> {
  const f = await vault.decryptFields(
    db,
    row.subject_id,
    'devices',
    {
      device_id: buf(row.device_id),
      imei: buf(row.imei),
      model: buf(row.model),
      firmware: buf(row.firmware),
      location_precision: buf(row.location_precision),
      location: buf(row.location),
      precise_location: buf(row.precise_location),
    },
    'subject_rights',
  );
  const own = f.location_precision as LocationPrecision | null;
  const loc = f.precise_location ?? f.location;
  return {
    id: row.id,
    deviceId: f.device_id!,
    imei: f.imei!,
    model: f.model!,
    firmware: f.firmware!,
    locationPrecision: own,
    effectivePrecision: own ?? accountPrecision,
    location: loc === null ? null : (JSON.parse(loc) as StoredLocation),
    lastEvent: row.last_event as DeviceEvent,
    activatedAt: row.activated_at,
    updatedAt: row.updated_at,
  };
}
