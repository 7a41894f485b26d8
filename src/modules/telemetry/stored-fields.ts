import { categoryOfField } from '../policy/classifier.js';
import type { CompiledPolicy } from '../policy/policy.js';

/**
 * The bookkeeping columns of the telemetry stores: row keys, the owner link, timestamps, counters and the request's
 * method and status. They say how a row is kept, not what is known about someone, so the policy does not list them.
 */
const BOOKKEEPING = new Set(['id', 'subject_id', 'at', 'created_at', 'received_at', 'revoked_at', 'device_ref', 'ip_truncated', 'method', 'status', 'pii_counts']);

/** Columns holding another declared column's datum in a derived form, checked as that column. */
const DERIVED: Readonly<Record<string, string>> = { ip_prefix: 'ip' };

/**
 * R-CLS-1 at write time: every data column a telemetry store is about to write must be declared in the policy
 * (`categoryOfField`), or the write is refused with UNDECLARED_FIELD and nothing is stored. Writers pass the
 * columns of the rows they write (one call per batch: the rows of a batch share their columns).
 */
export function assertStoredFields(policy: CompiledPolicy, table: string, columns: Iterable<string>): void {
  for (const column of columns) if (!BOOKKEEPING.has(column)) categoryOfField(policy, table, DERIVED[column] ?? column);
}
