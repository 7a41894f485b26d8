import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, canonicalEntry, entryHash } from './audit.hash.js';
import { ChainVerifier } from './audit.verify.js';
import type { AuditRow } from './audit.table.js';

const base = { seq: 1, at: '2026-11-25T12:00:00.000Z', actor: 'system:test', action: 'x.y', subject_id: 's1', purpose: null, target: 't', details: '{}', policy_version: '1', policy_hash: 'h', prev_hash: GENESIS_HASH };

function chain(hashOf: (e: Omit<AuditRow, 'hash'>) => string, n: number): AuditRow[] {
  const rows: AuditRow[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const e = { ...base, seq: i, details: `{"n":${i}}`, prev_hash: prev };
    rows.push({ ...e, hash: hashOf(e) });
    prev = rows[rows.length - 1]!.hash;
  }
  return rows;
}

describe('audit entry encoding', () => {
  it('R-SEC-6: the encoding keeps field boundaries, null vs empty, and non-ASCII apart', () => {
    const variants = [
      base,
      { ...base, actor: 'system:tes', action: 'tx.y' }, // a character moved across a boundary
      { ...base, purpose: '' }, // empty string, not null
      { ...base, target: 'T' },
      { ...base, details: '{"a":"é"}' },
      { ...base, details: '{"a":"e\u0301"}' },
      { ...base, seq: 2 },
    ];
    const hashes = new Set(variants.map((v) => entryHash(v)));
    expect(hashes.size).toBe(variants.length);
    expect(entryHash(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('R-SEC-6: a long entry is encoded whole (the reused buffer grows)', () => {
    const long = { ...base, details: JSON.stringify({ ids: 'x'.repeat(20_000) }) };
    expect(canonicalEntry(long).length).toBeGreaterThan(20_000);
    expect(entryHash(long)).not.toBe(entryHash({ ...long, details: long.details.replace('x"}', 'y"}') }));
  });

  it('R-SEC-6: a chain verifies, and an edit is caught', () => {
    {
      const rows = chain(entryHash, 5);
      const ok = new ChainVerifier();
      for (const r of rows) ok.push(r);
      expect(ok.finish({ seq: 5, hash: rows[4]!.hash })).toBeUndefined();
      const bad = new ChainVerifier();
      for (const r of rows.map((r) => (r.seq === 3 ? { ...r, target: 'other' } : r))) bad.push(r);
      expect(bad.firstBreak).toEqual({ kind: 'hash_mismatch', seq: 3 });
    }
  });
});
