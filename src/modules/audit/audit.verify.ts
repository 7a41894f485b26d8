import { GENESIS_HASH, entryHash } from './audit.hash.js';
import type { AuditRow } from './audit.table.js';

export type ChainBreak =
  | { readonly kind: 'hash_mismatch'; readonly seq: number }
  | { readonly kind: 'prev_mismatch'; readonly seq: number }
  | { readonly kind: 'sequence_gap'; readonly seq: number; readonly expected: number }
  | { readonly kind: 'head_mismatch'; readonly seq: number };

/**
 * Walks rows in seq order; keeps only the previous hash, so it verifies a stream of any length.
 * Detects an edited entry (its hash), a removed or inserted one (sequence and prev_hash), a
 * reordering (prev_hash), and a truncated tail (the head row).
 */
export class ChainVerifier {
  private prevHash = GENESIS_HASH;
  private expectedSeq = 1;
  count = 0;
  firstBreak: ChainBreak | undefined;

  push(row: AuditRow): boolean {
    if (this.firstBreak) return false;
    if (row.seq !== this.expectedSeq) this.firstBreak = { kind: 'sequence_gap', seq: row.seq, expected: this.expectedSeq };
    else if (row.prev_hash !== this.prevHash) this.firstBreak = { kind: 'prev_mismatch', seq: row.seq };
    else if (entryHash(row) !== row.hash) this.firstBreak = { kind: 'hash_mismatch', seq: row.seq };
    if (this.firstBreak) return false;
    this.prevHash = row.hash;
    this.expectedSeq++;
    this.count++;
    return true;
  }

  finish(head: { seq: number; hash: string } | undefined): ChainBreak | undefined {
    if (this.firstBreak) return this.firstBreak;
    const headSeq = head?.seq ?? 0;
    const headHash = head?.hash ?? GENESIS_HASH;
    if (headSeq !== this.count || headHash !== this.prevHash) this.firstBreak = { kind: 'head_mismatch', seq: headSeq };
    return this.firstBreak;
  }
}

export function describeBreak(b: ChainBreak): string {
  switch (b.kind) {
    case 'hash_mismatch':
      return `entry ${b.seq} was changed after it was written (its hash does not match its content)`;
    case 'prev_mismatch':
      return `entry ${b.seq} does not follow the entry before it (an entry was removed, inserted or reordered)`;
    case 'sequence_gap':
      return `expected entry ${b.expected} but found entry ${b.seq} (an entry was removed, inserted or reordered)`;
    case 'head_mismatch':
      return `the chain ends before its recorded head ${b.seq} (entries were removed from the end)`;
  }
}
