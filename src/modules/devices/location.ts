/** How precisely a device's latest location may be kept (R-CHO-3). */
export type LocationPrecision = 'precise' | 'city' | 'region' | 'off';

export const LOCATION_PRECISIONS: readonly LocationPrecision[] = ['precise', 'city', 'region', 'off'];

export interface GeoPoint {
  readonly lat: number;
  readonly lon: number;
}

// Grid cell sizes: about a town (10 km) and about a province (100 km).
const CELL_KM: Readonly<Record<'city' | 'region', number>> = { city: 10, region: 100 };
const KM_PER_DEGREE = 111.32;

/** Larger is coarser; used to decide whether a stored location must be coarsened further. */
export const PRECISION_RANK: Readonly<Record<LocationPrecision, number>> = { precise: 0, city: 1, region: 2, off: 3 };

const snap = (value: number, step: number): number => (Math.floor(value / step) + 0.5) * step;
const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/**
 * Snaps a point to the centre of its grid cell, so that every point of the cell stores the same value.
 * Cells are square on the ground: the longitude step widens with latitude. Snapping a cell centre again
 * returns it unchanged, so retroactive coarsening is idempotent.
 *
 * @example coarsen({ lat: 48.85837, lon: 2.29448 }, 'city') // { lat: 48.8575…, lon: 2.2869… }
 */
export function coarsen(point: GeoPoint, precision: 'precise' | 'city' | 'region'): GeoPoint {
  if (precision === 'precise') return { lat: round6(point.lat), lon: round6(point.lon) };
  const latStep = CELL_KM[precision] / KM_PER_DEGREE;
  const lat = Math.min(90, Math.max(-90, snap(point.lat, latStep)));
  const cos = Math.max(Math.cos((lat * Math.PI) / 180), 0.01);
  const lonStep = Math.min(CELL_KM[precision] / (KM_PER_DEGREE * cos), 360);
  let lon = snap(point.lon + 180, lonStep) - 180;
  if (lon > 180) lon -= 360;
  return { lat: round6(lat), lon: round6(lon) };
}

/** Distance in km (haversine), for tests and for reasoning about cell sizes. */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}
