import { describe, expect, it } from 'vitest';
import { MAX_RELEASE_DAYS, boundContributions, chargedDays, coveredDays, noisyGroups, releaseThreshold, type Contribution, type GroupKey } from './insights.release.js';

/** mulberry32: a small seeded generator, so the statistical checks below give the same numbers on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) + 0.5) / 2 ** 32);
  };
}

const pairsOf = (pseudonym: string, keys: readonly GroupKey[]): Contribution[] => keys.map((key) => ({ pseudonym, key }));
const total = (m: ReadonlyMap<GroupKey, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
const l1 = (a: ReadonlyMap<GroupKey, number>, b: ReadonlyMap<GroupKey, number>): number =>
  [...new Set([...a.keys(), ...b.keys()])].reduce((s, k) => s + Math.abs((a.get(k) ?? 0) - (b.get(k) ?? 0)), 0);

describe('public releases: contribution bound, noise and suppression', () => {
  it('R-AGG-1: a pseudonym counts in at most m groups, the same ones whatever order its rows come in', () => {
    const days = coveredDays('2026-03-01', '2026-03-10');
    const pairs = [...pairsOf('busy', days), ...pairsOf('busy', days.slice(0, 3)), ...pairsOf('quiet', days.slice(0, 3))];
    const counts = boundContributions(pairs, 4);
    expect(total(counts)).toBe(4 + 3);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
    const reversed = boundContributions([...pairs].reverse(), 4);
    expect([...reversed].sort()).toEqual([...counts].sort());
    // Not simply the first days: the bound must not starve the end of a range.
    const rng = seeded(7);
    const many = Array.from({ length: 400 }, (_, i) => pairsOf(`p${i}`, days.filter(() => rng() < 0.8))).flat();
    const spread = boundContributions(many, 4);
    expect(spread.get(days[9]!)).toBeGreaterThan(0.5 * (spread.get(days[0]!) ?? 0));
  });

  it('R-AGG-1: adding or removing one pseudonym moves the bounded counts by at most m in L1 norm, the sensitivity the noise is scaled to', () => {
    const rng = seeded(42);
    const groups = Array.from({ length: 12 }, (_, i) => `g${i}`);
    const people = Array.from({ length: 60 }, (_, i) => pairsOf(`p${i}`, groups.filter(() => rng() < 0.6)));
    for (const m of [1, 4]) {
      const all = boundContributions(people.flat(), m);
      const moves = people.map((_, i) => l1(all, boundContributions(people.filter((__, j) => j !== i).flat(), m)));
      expect(Math.max(...moves)).toBe(m);
    }
    // Unbounded, one pseudonym moves far more than 4: the reason for the bound.
    const unbounded = boundContributions(people.flat(), groups.length);
    expect(Math.max(...people.map((_, i) => l1(unbounded, boundContributions(people.filter((__, j) => j !== i).flat(), groups.length))))).toBeGreaterThan(4);
  });

  it('R-AGG-1: the noise is Laplace of the given scale (mean absolute error ≈ scale, P(|error| ≥ t) ≈ e^(-t/scale))', () => {
    const random = seeded(2026);
    const errors: number[] = [];
    for (let i = 0; i < 20_000; i++) errors.push(Math.abs(noisyGroups(new Map([['g', 1000]]), { scale: 4, threshold: 10, random })[0]!.value - 1000));
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    expect(mean).toBeGreaterThan(4 * 0.95);
    expect(mean).toBeLessThan(4 * 1.05);
    const tail = errors.filter((e) => e > 8.5).length / errors.length;
    expect(tail).toBeGreaterThan(Math.exp(-8.5 / 4) * 0.85);
    expect(tail).toBeLessThan(Math.exp(-8.5 / 4) * 1.15);
  });

  it('R-AGG-1: suppression is decided on the noisy value, and only noisy values are published', () => {
    const counts = new Map<GroupKey, number>([['small', 3], ['large', 12]]);
    // u = 0.5 draws no noise; 0.99 draws +scale·ln 50; 0.01 draws −scale·ln 50.
    expect(noisyGroups(counts, { scale: 4, threshold: 10, random: () => 0.5 })).toEqual([{ key: 'large', value: 12 }]);
    expect(noisyGroups(counts, { scale: 4, threshold: 10, random: () => 0.99 })).toEqual([
      { key: 'large', value: Math.round(12 + 4 * Math.log(50)) },
      { key: 'small', value: Math.round(3 + 4 * Math.log(50)) },
    ]);
    expect(noisyGroups(counts, { scale: 4, threshold: 10, random: () => 0.01 })).toEqual([]);
    const random = seeded(1);
    const published = Array.from({ length: 50 }, () => noisyGroups(new Map([['g', 40]]), { scale: 4, threshold: 10, random })[0]!.value);
    expect(published.filter((v) => v !== 40).length).toBeGreaterThan(30);
  });

  it('R-AGG-1: a group only the data brings (one person) is never published at τ, though k alone lets it through about 6 % of the time; a large group always is', () => {
    // The seed policy: k = 10, m = 4, ε = 1 (scale 4), δ = 1e-6.
    const settings = { k: 10, scale: 4, maxGroups: 4, delta: 1e-6 };
    const tau = releaseThreshold(settings);
    expect(tau).toBeCloseTo(10 + 4 * Math.log(1 / 2e-6), 9);
    const draws = 200_000;
    const atK = seeded(99);
    const atTau = seeded(99);
    let passedK = 0;
    let passedTau = 0;
    for (let i = 0; i < draws; i++) {
      passedK += noisyGroups(new Map([['model.rare', 1]]), { scale: 4, threshold: 10, random: atK }).length;
      passedTau += noisyGroups(new Map([['model.rare', 1]]), { scale: 4, threshold: tau, random: atTau }).length;
    }
    // P(1 + Lap(4) ≥ 10) = ½·e^(−9/4) ≈ 5.3 %: the unaccounted δ of a threshold of k alone.
    expect(passedK / draws).toBeGreaterThan(0.045);
    expect(passedK / draws).toBeLessThan(0.06);
    expect(passedTau).toBe(0);
    const large = seeded(5);
    for (let i = 0; i < 2_000; i++) expect(noisyGroups(new Map([['model.common', 150]]), { scale: 4, threshold: tau, random: large })).toHaveLength(1);
    // A policy where k is small next to the noise gets the margin for m groups, so one person's chance stays ≤ δ.
    const loose = { k: 2, scale: 8, maxGroups: 8, delta: 1e-6 };
    expect(releaseThreshold(loose)).toBeCloseTo(1 + 8 * Math.log(8 / 2e-6), 9);
    expect(8 * 0.5 * Math.exp(-(releaseThreshold(loose) - 1) / 8)).toBeLessThanOrEqual(1e-6 * (1 + 1e-9));
  });

  it('R-AGG-1: a release is charged on every day of each pseudonym epoch its days can hold pseudonyms of, backdated events included', () => {
    const epochOf = (ms: number): number => Math.floor(ms / (30 * 86_400_000));
    // 30-day epochs from 1970-01-01: 2024-12-13 … 2025-01-11, then 2025-01-12 … 2025-02-10.
    const mid = chargedDays('2025-01-01', '2025-01-02', epochOf);
    expect(mid[0]).toBe('2024-12-13');
    // Events are accepted up to 31 days after their day, under the pseudonym of the epoch they arrive in.
    expect(mid.at(-1)).toBe('2025-02-10');
    expect(mid).toHaveLength(60);
    expect(chargedDays('2025-01-09', '2025-01-09', epochOf)).toEqual(mid);
    // The first day of an epoch also holds events sent a day ahead of their date at the end of the one before.
    const first = chargedDays('2025-01-12', '2025-01-12', epochOf);
    expect(first[0]).toBe('2024-12-13');
    expect(first.at(-1)).toBe('2025-03-12');
    // Days in order, none missing; a far epoch shares no day.
    expect(first).toEqual(coveredDays('2024-12-13', '2025-03-12'));
    expect(chargedDays('2025-04-20', '2025-04-20', epochOf).some((d) => mid.includes(d))).toBe(false);
  });

  it('R-AGG-1: a release covers real days only, in order, at most MAX_RELEASE_DAYS of them', () => {
    expect(coveredDays('2028-02-27', '2028-03-01')).toEqual(['2028-02-27', '2028-02-28', '2028-02-29', '2028-03-01']);
    expect(coveredDays('2026-01-01', '2026-01-01')).toEqual(['2026-01-01']);
    for (const [from, to] of [['2026-02-29', '2026-03-01'], ['2026-03-02', '2026-03-01'], ['2026-1-01', '2026-01-02']] as const) {
      expect(() => coveredDays(from, to)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
    expect(coveredDays('2024-01-01', '2024-12-31')).toHaveLength(MAX_RELEASE_DAYS);
    expect(() => coveredDays('2024-01-01', '2025-01-01')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
