import { randomBytes } from 'node:crypto';

/** A uniform double in (0, 1) from the OS CSPRNG: noise that an observer cannot predict or replay. */
export function cryptoUniform(): number {
  const x = Number(randomBytes(8).readBigUInt64BE() >> 11n) / 2 ** 53;
  return x === 0 ? Number.MIN_VALUE : x;
}

/**
 * Laplace(0, scale) by inverse CDF; scale = sensitivity / ε (the Laplace mechanism, Dwork et al. 2006).
 * `random` draws uniformly from (0, 1); production keeps the CSPRNG, tests pass a seeded source.
 */
export function laplace(scale: number, random: () => number = cryptoUniform): number {
  const u = random() - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
