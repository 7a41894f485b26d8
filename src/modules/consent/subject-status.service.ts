import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { nowIso } from '../../internal/db/columns.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { DecisionEngine } from './decision.engine.js';
import * as repo from './consent.repository.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface SubjectStatus {
  readonly subjectId: string;
  readonly isChild: boolean;
  readonly guardianConsent: boolean;
  readonly restricted: boolean;
  readonly restrictedReason: string | null;
  readonly erasedAt: string | null;
}

/**
 * The decision inputs that are not consents: child (R-KID-2), restriction (rights: Art. 18) and erasure.
 * Accounts, rights and the vault call these inside their own transactions; each writes its audit entry there
 * and tells the decision engine, which forgets the subject when the transaction commits.
 */
export class SubjectStatusService {
  constructor(
    private readonly audit: AuditLog,
    private readonly engine: DecisionEngine,
  ) {}

  async markChild(db: Db, ctx: ActorContext, subjectId: string, isChild: boolean, guardianConsent?: boolean): Promise<void> {
    const patch = { is_child: isChild ? 1 : 0, ...(guardianConsent === undefined ? {} : { guardian_consent: guardianConsent ? 1 : 0 }) };
    await this.apply(db, ctx, subjectId, patch, 'subject.child_marked', { isChild, ...(guardianConsent === undefined ? {} : { guardianConsent }) });
  }

  /** `reason` is a code (e.g. `dsr_restrict`, `legal_hold`), never free text about the person. */
  async setRestricted(db: Db, ctx: ActorContext, subjectId: string, on: boolean, reason: string): Promise<void> {
    await this.apply(db, ctx, subjectId, { restricted: on ? 1 : 0, restricted_reason: on ? reason : null }, on ? 'subject.restricted' : 'subject.unrestricted', { reason });
  }

  async markErased(db: Db, ctx: ActorContext, subjectId: string): Promise<void> {
    await this.apply(db, ctx, subjectId, { erased_at: nowIso() }, 'subject.erased', {});
  }

  async get(db: Db, subjectId: string): Promise<SubjectStatus> {
    const row = await repo.statusFor(db, subjectId);
    return {
      subjectId,
      isChild: row?.is_child === 1,
      guardianConsent: row?.guardian_consent === 1,
      restricted: row?.restricted === 1,
      restrictedReason: row?.restricted_reason ?? null,
      erasedAt: row?.erased_at ?? null,
    };
  }

  private async apply(db: Db, ctx: ActorContext, subjectId: string, patch: repo.StatusPatch, action: string, details: Record<string, string | boolean>): Promise<void> {
    const run = async (trx: Transaction<Database>): Promise<void> => {
      await repo.upsertStatus(trx, subjectId, patch, nowIso());
      await this.audit.append(trx, ctx, { action, subjectId, details });
      await this.engine.noteChange(trx, subjectId);
    };
    if (db.isTransaction) {
      await run(db as Transaction<Database>);
      return;
    }
    await (db as Kysely<Database>).transaction().execute(run);
    this.engine.committed(subjectId);
  }
}
