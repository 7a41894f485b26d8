import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { DecisionEngine } from './decision.engine.js';
import type { ReceiptSigner } from './receipt.signer.js';
import { buildReceipt, type KantaraReceipt } from './receipt.js';
import { GPC_OVERRIDE_METHOD, type ConsentChangeInput, type ConsentChangeResult, type ConsentSource, type ConsentState, type ConsentStatus } from './consent.js';
import type { ConsentCurrentRow, ConsentEventRow } from './consent.table.js';
import * as repo from './consent.repository.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface SetConsentProps {
  readonly subjectId: string;
  readonly purpose: string;
  readonly granted: boolean;
  readonly source: ConsentSource;
  readonly collectionMethod: string;
  /** The request carried `Sec-GPC: 1`. */
  readonly gpc: boolean;
  readonly confirmOverrideGpc: boolean;
}

/**
 * The append-only consent ledger (R-USE-5, R-CHO-2, R-CHO-4). Every change appends events, updates the
 * derived current state, signs one receipt and writes the audit entry, all in one transaction; the decision
 * engine forgets the subject at commit, so the very next decision sees the change.
 */
export class ConsentLedger {
  constructor(
    private readonly policy: CompiledPolicy,
    private readonly audit: AuditLog,
    private readonly engine: DecisionEngine,
    private readonly signer: ReceiptSigner,
  ) {}

  /**
   * Called inside the change's transaction whenever a consent ends (withdrawn, refused, expired, revoked), so that
   * what rested on it stops at once: e.g. telemetry drops the person's pseudonym link (R-TEL-2).
   */
  readonly endListeners: ((trx: Transaction<Database>, ctx: ActorContext, subjectId: string, purpose: string) => Promise<void>)[] = [];

  /** Records consent changes; joins the caller's transaction when given one. */
  async change(db: Db, ctx: ActorContext, input: ConsentChangeInput): Promise<ConsentChangeResult> {
    for (const c of input.changes) this.consentPurpose(c.purpose);
    if (input.changes.length === 0) throw errors.validation('No consent change was given');
    const run = async (trx: Transaction<Database>): Promise<string> => {
      const at = input.at ?? new Date();
      const receiptId = randomUUID();
      for (const c of input.changes) {
        const purpose = this.consentPurpose(c.purpose);
        if (c.status !== 'given') for (const listener of this.endListeners) await listener(trx, ctx, input.subjectId, c.purpose);
        const expiresAt = c.status === 'given' && purpose.consentExpiresMs !== undefined ? new Date(at.getTime() + purpose.consentExpiresMs).toISOString() : null;
        await repo.insertEvent(
          trx,
          {
            id: randomUUID(), subject_id: input.subjectId, purpose: c.purpose, status: c.status, policy_version: this.policy.version,
            policy_hash: this.policy.hash, source: input.source, collection_method: input.collectionMethod, at: at.toISOString(), receipt_id: receiptId,
          },
          expiresAt,
        );
      }
      const receipt = buildReceipt(this.policy, { receiptId, subjectId: input.subjectId, at, collectionMethod: input.collectionMethod, changes: input.changes });
      const jws = await this.signer.sign(receipt, this.policy.controller.policyUrl);
      await repo.insertReceipt(trx, { id: receiptId, subject_id: input.subjectId, at: at.toISOString(), jws });
      await this.audit.append(trx, ctx, {
        action: 'consent.changed',
        subjectId: input.subjectId,
        target: receiptId,
        details: { purposes: input.changes.map((c) => c.purpose), statuses: input.changes.map((c) => c.status), source: input.source, method: input.collectionMethod },
      });
      await this.engine.noteChange(trx, input.subjectId);
      return receiptId;
    };
    const receiptId = db.isTransaction ? await run(db as Transaction<Database>) : await (db as Kysely<Database>).transaction().execute(run);
    if (!db.isTransaction) this.engine.committed(input.subjectId);
    return { receiptId, states: await this.list(db, input.subjectId) };
  }

  /**
   * Gives or withdraws one purpose: the same single call either way (GDPR Art. 7(3)). Under a GPC signal an
   * opt-in to a gpcOptOut purpose needs `confirmOverrideGpc` (R-TEL-5), and is then recorded as such.
   */
  async set(db: Db, ctx: ActorContext, props: SetConsentProps): Promise<ConsentChangeResult & { state: ConsentState }> {
    const purpose = this.consentPurpose(props.purpose);
    const overriding = props.granted && props.gpc && purpose.gpcOptOut;
    if (overriding && !props.confirmOverrideGpc) throw new AppError('GPC_CONFIRMATION_REQUIRED', undefined, { purpose: purpose.name });
    const current = (await repo.currentFor(db, props.subjectId)).find((r) => r.purpose === props.purpose);
    const status: ConsentStatus = props.granted ? 'given' : current?.status === 'given' ? 'withdrawn' : 'refused';
    const method = overriding ? GPC_OVERRIDE_METHOD : props.collectionMethod;
    const result = await this.change(db, ctx, { subjectId: props.subjectId, changes: [{ purpose: props.purpose, status }], source: props.source, collectionMethod: method });
    return { ...result, state: result.states.find((s) => s.purpose === props.purpose) as ConsentState };
  }

  /** Every opt-in purpose of the policy with the subject's current state (not_asked = denied). */
  async list(db: Db, subjectId: string): Promise<ConsentState[]> {
    const rows = new Map((await repo.currentFor(db, subjectId)).map((r) => [r.purpose, r]));
    return this.policy.consentPurposes.map((name) => this.present(name, rows.get(name)));
  }

  async history(db: Db, subjectId: string): Promise<ConsentEventRow[]> {
    return repo.eventsFor(db, subjectId);
  }

  /** A receipt of the subject's own (another subject's receipt is "not found", never "forbidden"). */
  async receipt(db: Db, subjectId: string, receiptId: string): Promise<{ jws: string; receipt: KantaraReceipt }> {
    const row = await repo.receiptById(db, receiptId);
    if (!row || row.subject_id !== subjectId) throw errors.notFound('The receipt');
    const payload = JSON.parse(Buffer.from(row.jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as KantaraReceipt;
    return { jws: row.jws, receipt: payload };
  }

  /** The sweeper: appends an 'expired' event for every given consent past its expiry. Returns how many. */
  async expireDue(db: Kysely<Database>, ctx: ActorContext, now = new Date()): Promise<number> {
    let count = 0;
    for (;;) {
      const due = await repo.dueToExpire(db, now.toISOString(), 100);
      for (const row of due) {
        await this.change(db, ctx, { subjectId: row.subject_id, changes: [{ purpose: row.purpose, status: 'expired' }], source: row.source as ConsentSource, collectionMethod: 'expiry' });
        count++;
      }
      if (due.length < 100) return count;
    }
  }

  private consentPurpose(name: string) {
    const p = this.policy.purposes.get(name);
    if (!p) throw new AppError('UNKNOWN_PURPOSE', 'The purpose is not declared in the policy', { purpose: name });
    if (!p.needsConsent) throw new AppError('PURPOSE_NEEDS_NO_CONSENT', undefined, { purpose: name, legalBasis: p.legalBasis });
    return p;
  }

  private present(name: string, row: ConsentCurrentRow | undefined): ConsentState {
    const title = this.policy.purposes.get(name)?.title ?? name;
    if (!row) return { purpose: name, title, status: 'not_asked', granted: false, source: null, at: null, expiresAt: null };
    const lapsed = row.status === 'given' && row.expires_at !== null && row.expires_at <= new Date().toISOString();
    const status = lapsed ? 'expired' : (row.status as ConsentStatus);
    return { purpose: name, title, status, granted: status === 'given', source: row.source as ConsentSource, at: row.at, expiresAt: row.expires_at };
  }
}
