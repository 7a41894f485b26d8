import { describe, expect, it } from 'vitest';
import { coarsen, distanceKm } from './location.js';
import { assertImei } from './imei.js';

const eiffel = { lat: 48.85837, lon: 2.294481 };

describe('device location and identifiers', () => {
  it('R-CHO-3: city precision snaps to a ~10 km cell, region to a ~100 km cell', () => {
    const city = coarsen(eiffel, 'city');
    const region = coarsen(eiffel, 'region');
    expect(distanceKm(eiffel, city)).toBeLessThan(7.5);
    expect(distanceKm(eiffel, city)).toBeGreaterThan(0.1);
    expect(distanceKm(eiffel, region)).toBeLessThan(75);
    // Every point of the same cell stores the same value: nearby points are indistinguishable.
    expect(coarsen({ lat: 48.86, lon: 2.3 }, 'city')).toEqual(city);
    expect(coarsen(city, 'city')).toEqual(city);
    expect(coarsen(region, 'region')).toEqual(region);
    expect(coarsen(eiffel, 'precise')).toEqual(eiffel);
  });

  it('R-CHO-3: coarsening holds near the poles and the antimeridian', () => {
    for (const p of [{ lat: 89.99, lon: 179.99 }, { lat: -89.99, lon: -179.99 }, { lat: 0, lon: 180 }, { lat: 0, lon: -180 }]) {
      const c = coarsen(p, 'region');
      expect(Math.abs(c.lat)).toBeLessThanOrEqual(90);
      expect(Math.abs(c.lon)).toBeLessThanOrEqual(180);
    }
  });

  it('R-ACC-4: an IMEI is 15 digits with a Luhn check digit', () => {
    expect(assertImei('490154203237518')).toBe('490154203237518');
    for (const bad of ['490154203237519', '49015420323751', '4901542032375180', '49015420323751x']) {
      expect(() => assertImei(bad)).toThrow(expect.objectContaining({ code: 'IMEI_INVALID' }));
    }
  });
});
