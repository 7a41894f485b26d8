import type { DecisionGate } from '../consent/decision.js';
import { coarsen, PRECISION_RANK, type GeoPoint, type LocationPrecision } from './location.js';
import type { StoredLocation } from './device.js';

/**
 * The precision that may actually be stored: "precise" only with the precise_location consent recorded
 * (R-CHO-3, decision gate); without it the point is kept at city level.
 */
export async function allowedPrecision(gate: DecisionGate, subjectId: string, wanted: LocationPrecision): Promise<LocationPrecision> {
  if (wanted !== 'precise') return wanted;
  const d = await gate.decide({ subjectId, category: 'user.location.precise', purpose: 'precise_location' });
  return d.allow ? 'precise' : 'city';
}

/** A new point, coarsened before it is stored; null when the setting is off. */
export function locationToStore(point: GeoPoint | undefined, precision: LocationPrecision): StoredLocation | null {
  if (point === undefined || precision === 'off') return null;
  return { ...coarsen(point, precision), precision };
}

/**
 * What a stored location becomes under a new setting: coarsened further when the setting is coarser,
 * removed when off, unchanged otherwise (a coarse point cannot be made precise again).
 */
export function recoarsen(stored: StoredLocation | null, precision: LocationPrecision): StoredLocation | null {
  if (stored === null || precision === 'off') return null;
  if (PRECISION_RANK[precision] <= PRECISION_RANK[stored.precision]) return stored;
  return { ...coarsen(stored, precision as 'city' | 'region'), precision: precision as 'city' | 'region' };
}

/** The two columns a stored location goes to: precise points under their own category (user.location.precise). */
export function locationColumns(loc: StoredLocation | null): { location: string | null; precise_location: string | null } {
  if (loc === null) return { location: null, precise_location: null };
  const text = JSON.stringify({ lat: loc.lat, lon: loc.lon, precision: loc.precision });
  return loc.precision === 'precise' ? { location: null, precise_location: text } : { location: text, precise_location: null };
}
