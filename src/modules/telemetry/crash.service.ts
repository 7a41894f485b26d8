import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import { nowIso } from '../../internal/db/columns.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { DecisionGate } from '../consent/decision.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { redactPii, type PiiCounts } from './pii-scanner.js';
import { assertStoredFields } from './stored-fields.js';

type Db = Kysely<Database> | Transaction<Database>;
type Sealed = 'device_id' | 'ip' | 'route' | 'model' | 'firmware';

/** The part of the vault crash reports use: seal under the owner's key, open only for a purpose the gate allows. */
export interface CrashVault {
  encryptFields<K extends string>(db: Db, subjectId: string, table: string, values: Readonly<Record<K, string | null | undefined>>): Promise<Record<K, Buffer | null>>;
  decryptFields<K extends string>(db: Db, subjectId: string, table: string, fields: Readonly<Record<K, Buffer | null | undefined>>, purpose: string): Promise<Record<K, string | null>>;
}

export interface CrashInput {
  readonly body: string;
  readonly deviceId?: string | undefined;
  readonly route?: string | undefined;
  readonly ip?: string | undefined;
}

export interface CrashOwner {
  readonly subjectId: string;
  readonly model: string | null;
  readonly firmware: string | null;
}

export interface CrashReport {
  readonly id: string;
  readonly receivedAt: string;
  readonly model: string | null;
  readonly firmware: string | null;
  readonly body: string;
  readonly redacted: PiiCounts;
  readonly deviceId: string | null;
  readonly ip: string | null;
  readonly route: string | null;
}

const buf = (v: Uint8Array | null): Buffer | null => (v === null ? null : Buffer.from(v.buffer, v.byteOffset, v.byteLength));

export const MAX_CRASH_BODY = 64 * 1024;

/**
 * Crash reports (R-TEL-3, R-CLS-3, R-KID-2). The free text is scanned and redacted before it is stored, with
 * the counts of what was removed. Device id, IP and route data are sealed by the vault under the owner's key
 * and opened only for the crash diagnostics purpose by staff; the sweeper deletes the row after the retention.
 */
export class CrashReports {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly policy: CompiledPolicy,
    private readonly audit: AuditLog,
    private readonly gate: DecisionGate,
    private readonly vault: CrashVault,
  ) {}

  async submit(ctx: ActorContext, owner: CrashOwner, input: CrashInput): Promise<{ id: string; redacted: PiiCounts }> {
    if (typeof input.body !== 'string' || input.body.length === 0 || input.body.length > MAX_CRASH_BODY) {
      throw errors.validation(`A crash report body is 1 to ${MAX_CRASH_BODY} characters`);
    }
    // R-KID-2: nothing of this kind is collected from a child account.
    const uep = await this.gate.decide({ subjectId: owner.subjectId, category: 'user.telemetry', purpose: this.policy.telemetry.purpose });
    if (uep.reason === 'SUBJECT_IS_CHILD') throw new AppError('SUBJECT_IS_CHILD');
    const scan = redactPii(input.body);
    const id = randomUUID();
    await this.db.transaction().execute(async (trx) => {
      const sealed = await this.vault.encryptFields<Sealed>(trx, owner.subjectId, 'crash_reports', { device_id: input.deviceId, ip: input.ip, route: input.route, model: owner.model, firmware: owner.firmware });
      const row = { id, subject_id: owner.subjectId, received_at: nowIso(), body: scan.text, pii_counts: JSON.stringify(scan.counts), ...sealed };
      assertStoredFields(this.policy, 'crash_reports', Object.keys(row));
      await trx.insertInto('crash_reports').values(row).execute();
      await this.audit.append(trx, ctx, { action: 'telemetry.crash_received', subjectId: owner.subjectId, target: id, details: { redacted: scan.total } });
    });
    return { id, redacted: scan.counts };
  }

  /** Staff only, for the crash diagnostics purpose; every read is audited with the purpose. */
  async read(ctx: ActorContext, id: string, purpose: string): Promise<CrashReport> {
    if (ctx.actor.type !== 'staff') throw errors.forbidden('Only staff with the diagnostics role read crash reports');
    if (purpose !== this.policy.telemetry.crashPurpose) throw new AppError('PURPOSE_DENIED', `Crash reports are read only for ${this.policy.telemetry.crashPurpose}`);
    const row = await this.db.selectFrom('crash_reports').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw errors.notFound('The crash report');
    const open = await this.vault.decryptFields<Sealed>(this.db, row.subject_id, 'crash_reports', { device_id: buf(row.device_id), ip: buf(row.ip), route: buf(row.route), model: buf(row.model), firmware: buf(row.firmware) }, purpose);
    await this.audit.append(this.db, ctx, { action: 'telemetry.crash_read', subjectId: row.subject_id, target: id, purpose });
    return {
      id: row.id,
      receivedAt: row.received_at,
      model: open.model,
      firmware: open.firmware,
      body: row.body,
      redacted: JSON.parse(row.pii_counts) as PiiCounts,
      deviceId: open.device_id,
      ip: open.ip,
      route: open.route,
    };
  }
}
