import type { GeoPoint, LocationPrecision } from './location.js';

export type DeviceEvent = 'activation' | 'firmware_update' | 'factory_reset';

export interface DeviceActivation {
  readonly event: DeviceEvent;
  readonly deviceId: string;
  readonly imei: string;
  readonly model: string;
  readonly firmware: string;
  readonly location?: GeoPoint | undefined;
}

/** A stored location: the point already coarsened, and the precision it was coarsened to. */
export interface StoredLocation extends GeoPoint {
  readonly precision: Exclude<LocationPrecision, 'off'>;
}

/** A device as its owner sees it: only the latest location, never a trail. */
export interface DeviceView {
  readonly id: string;
  readonly deviceId: string;
  readonly imei: string;
  readonly model: string;
  readonly firmware: string;
  /** The device's own setting; null when it follows the account's. */
  readonly locationPrecision: LocationPrecision | null;
  /** The setting in force: the device's own, else the account's. */
  readonly effectivePrecision: LocationPrecision;
  readonly location: StoredLocation | null;
  readonly lastEvent: DeviceEvent;
  readonly activatedAt: string;
  readonly updatedAt: string;
}

/** Where the account-level precision comes from (the accounts module, R-CHO-3). */
export interface AccountPrecisionSource {
  locationPrecision(subjectId: string): Promise<LocationPrecision>;
}
