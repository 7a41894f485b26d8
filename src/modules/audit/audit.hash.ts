import { hash } from 'node:crypto';
import type { AuditRow } from './audit.table.js';

export const GENESIS_HASH = '0'.repeat(64);

type HashInput = Omit<AuditRow, 'hash'>;

// Length-prefixed, so no two different entries encode to the same text (a field cannot "borrow"
// characters from its neighbour); null is distinct from the empty string.
const field = (s: string | null): string => (s === null ? '~' : s.length + ':' + s);

/**
 * The canonical encoding hashed into the chain: the fields in a fixed order, length-prefixed.
 * `details` is already canonical JSON (sorted keys). Chosen over JSON.stringify of an array
 * because it is about twice as fast, which the verify goal of 1M entries/s needs.
 */
export function canonicalEntry(e: HashInput): string {
  // Array.join builds one flat string; a template literal builds a rope that the hash must flatten first (measured 30% slower).
  return ['#', e.seq, '|', field(e.at), field(e.actor), field(e.action), field(e.subject_id), field(e.purpose), field(e.target), field(e.details), field(e.policy_version), field(e.policy_hash), field(e.prev_hash)].join('');
}

/** SHA-256 (one-shot crypto.hash: no Hash object per entry), hex. */
export const entryHash = (e: HashInput): string => hash('sha256', canonicalEntry(e), 'hex');

/** Canonical JSON with sorted keys, for the details column. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}
