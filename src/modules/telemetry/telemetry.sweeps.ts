import type { CompiledPolicy } from '../policy/policy.js';
import type { DecisionGate } from '../consent/decision.js';
import type { RetentionSweeper } from '../retention/retention.service.js';
import type { Pseudonyms } from './pseudonyms.js';

/** The shortest retention among the categories a store holds (undefined: kept while the account is active). */
export function retentionOf(policy: CompiledPolicy, categories: readonly string[]): number | undefined {
  const spans = categories.map((c) => policy.categories.get(c)?.retentionMs).filter((ms): ms is number => ms !== undefined);
  return spans.length > 0 ? Math.min(...spans) : undefined;
}

// Each of these steps runs in the runner's transaction, with its audit entry.
const TX = { transaction: true } as const;

const before = (now: Date, ms: number): string => new Date(now.getTime() - ms).toISOString();

/** Registers the telemetry stores' retention (R-TEL-2, R-TEL-3, R-TEL-4, R-TEL-5) with the one sweeper. */
export function registerTelemetrySweeps(sweeper: RetentionSweeper, policy: CompiledPolicy, pseudonyms: Pseudonyms, gate: DecisionGate): void {
  const events = retentionOf(policy, ['user.telemetry']);
  if (events !== undefined) {
    sweeper.registerSweep('telemetry.events', async (db, now) => {
      const r = await db.deleteFrom('telemetry_events').where('day', '<', before(now, events).slice(0, 10)).executeTakeFirst();
      return { removed: Number(r.numDeletedRows) };
    }, TX);
  }
  sweeper.registerSweep('telemetry.epoch_secrets', async (db, now) => ({ removed: await pseudonyms.destroyEnded(db, now.getTime()) }), TX);
  // R-CHO-2 backstop: a link of someone no longer opted in is removed even if nobody told us of the opt-out.
  sweeper.registerSweep('telemetry.links_of_leavers', async (db) => {
    const subjects = await db.selectFrom('telemetry_links').select('subject_id').distinct().limit(5000).execute();
    const leavers: string[] = [];
    for (const { subject_id } of subjects) {
      const d = await gate.decide({ subjectId: subject_id, category: 'user.telemetry', purpose: policy.telemetry.purpose });
      if (!d.allow) leavers.push(subject_id);
    }
    if (leavers.length === 0) return { removed: 0 };
    const r = await db.deleteFrom('telemetry_links').where('subject_id', 'in', leavers).executeTakeFirst();
    return { removed: Number(r.numDeletedRows) };
  });
  const crashes = retentionOf(policy, ['user.telemetry.crash', 'user.device.ip_address', 'user.device.network_route']);
  if (crashes !== undefined) {
    sweeper.registerSweep('telemetry.crash_reports', async (db, now) => {
      const r = await db.deleteFrom('crash_reports').where('received_at', '<', before(now, crashes)).executeTakeFirst();
      return { removed: Number(r.numDeletedRows) };
    }, TX);
  }
  const logs = retentionOf(policy, ['user.device.ip_address', 'user.device.browser', 'user.behavior.browsing_history']);
  if (logs !== undefined) {
    sweeper.registerSweep('access_log.rows', async (db, now) => {
      const r = await db.deleteFrom('access_log').where('at', '<', before(now, logs)).executeTakeFirst();
      return { removed: Number(r.numDeletedRows) };
    }, TX);
  }
  // After the row deletion: there is no point truncating what is deleted anyway.
  const truncate = policy.telemetry.accessLogIpTruncateAfterMs;
  sweeper.registerSweep('access_log.truncate_ips', async (db, now) => {
    const r = await db
      .updateTable('access_log')
      .set((eb) => ({ ip: eb.ref('ip_prefix'), ip_sealed: null, ip_truncated: 1 }))
      .where('ip_truncated', '=', 0)
      .where('at', '<', before(now, truncate))
      .executeTakeFirst();
    return { removed: Number(r.numUpdatedRows) };
  }, TX);
  const opens = retentionOf(policy, ['user.behavior.email_engagement']);
  if (opens !== undefined) {
    sweeper.registerSweep('email.opens', async (db, now) => {
      const a = await db.deleteFrom('email_opens').where('opened_at', '<', before(now, opens)).executeTakeFirst();
      const b = await db.deleteFrom('pixel_tokens').where('created_at', '<', before(now, opens)).executeTakeFirst();
      return { removed: Number(a.numDeletedRows) + Number(b.numDeletedRows) };
    }, TX);
  }
}
