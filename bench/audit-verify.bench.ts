import { GENESIS_HASH, entryHash } from '../src/modules/audit/audit.hash.js';
import { ChainVerifier } from '../src/modules/audit/audit.verify.js';
import type { AuditRow } from '../src/modules/audit/audit.table.js';
import { median, report } from './report.js';

const PAGE = 5000; // the page size of AuditLog.verify

/** Rows seq = from … from + count - 1 of a synthetic chain, as a driver returns them. */
function makeRows(from: number, count: number, prevHash: string, at: string): AuditRow[] {
  const rows: AuditRow[] = new Array(count);
  let prev = prevHash;
  for (let j = 0; j < count; j++) {
    const i = from + j - 1;
    const row = {
      seq: i + 1,
      at,
      actor: `user:${(i % 5000).toString(16).padStart(8, '0')}-2b1c-4e8a-9f1d-5a6b7c8d9e0f`,
      action: 'account.updated',
      subject_id: `${(i % 5000).toString(16).padStart(8, '0')}-2b1c-4e8a-9f1d-5a6b7c8d9e0f`,
      purpose: 'provide_service',
      target: 'accounts',
      details: `{"fields":["language"],"requestId":"${i}"}`,
      policy_version: '2026.11.1',
      policy_hash: 'a'.repeat(64),
      prev_hash: prev,
    };
    // Rows read from a database hold flat strings (template literals here would be V8 cons strings, slower to
    // hash) in plain fast-property objects. The rows were first built by rewriting keys in a loop and spreading,
    // which left them as dictionary-mode objects: every field read was a hash look-up, and the walk measured that
    // (~2.5× slower per entry) rather than the hash. Drivers build each row object in one go, like this literal.
    const f = (x: string): string => Buffer.from(x).toString();
    const flat = { seq: row.seq, at: f(row.at), actor: f(row.actor), action: f(row.action), subject_id: f(row.subject_id), purpose: f(row.purpose), target: f(row.target), details: f(row.details), policy_version: f(row.policy_version), policy_hash: f(row.policy_hash), prev_hash: f(row.prev_hash) };
    const full = { seq: flat.seq, at: flat.at, actor: flat.actor, action: flat.action, subject_id: flat.subject_id, purpose: flat.purpose, target: flat.target, details: flat.details, policy_version: flat.policy_version, policy_hash: flat.policy_hash, prev_hash: flat.prev_hash, hash: entryHash(flat) };
    rows[j] = full;
    prev = full.hash;
  }
  return rows;
}

/** Times `walk`, in wall-clock and CPU time (the machine is shared: CPU time leaves out waiting for a core). */
function timed(n: number, walk: () => void): { wall: number; cpu: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  walk();
  const c = process.cpuUsage(c0);
  return { wall: n / ((performance.now() - t0) / 1000), cpu: n / ((c.user + c.system) / 1e6) };
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en');

/** Audit verification speed once rows are read: the hash walk alone, on one core. */
export async function auditVerifyBench(): Promise<void> {
  const at = new Date().toISOString();
  // 1. One million rows resident in memory, walked in one go (memory-bound: every row is a cache miss).
  const n = 1_000_000;
  const rows = makeRows(1, n, GENESIS_HASH, at);
  const resident: { wall: number; cpu: number }[] = [];
  for (let r = 0; r < 5; r++) {
    const v = new ChainVerifier();
    resident.push(timed(n, () => { for (const row of rows) v.push(row); }));
    if (v.count !== n) throw new Error('chain did not verify');
  }
  rows.length = 0;
  // 2. As AuditLog.verify consumes them: a page of 5000 rows just read (untimed), then verified (timed).
  const m = 200_000;
  const paged: { wall: number; cpu: number }[] = [];
  for (let r = 0; r < 5; r++) {
    const v = new ChainVerifier();
    let prev = GENESIS_HASH;
    let wallS = 0;
    let cpuS = 0;
    for (let from = 1; from <= m; from += PAGE) {
      const page = makeRows(from, PAGE, prev, at);
      prev = page[PAGE - 1]!.hash;
      const t = timed(PAGE, () => { for (const row of page) v.push(row); });
      wallS += PAGE / t.wall;
      cpuS += PAGE / t.cpu;
    }
    if (v.count !== m) throw new Error('chain did not verify');
    paged.push({ wall: m / wallS, cpu: m / cpuS });
  }
  // CPU time includes the GC's helper threads, so it is if anything pessimistic for "one core".
  report('audit verify, 1M rows resident (hash walk)', `${fmt(median(resident.map((x) => x.wall)))} entries/s wall, ${fmt(median(resident.map((x) => x.cpu)))} per CPU-second (median of 5; goal >= 1,000,000)`);
  report('audit verify, pages of 5000 just read (hash walk)', `${fmt(median(paged.map((x) => x.wall)))} entries/s wall, ${fmt(median(paged.map((x) => x.cpu)))} per CPU-second (median of 5 × 200k)`);
}
