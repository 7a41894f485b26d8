import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import { mapDatabaseError } from '../../internal/db/errors.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { Vault } from '../vault/vault.service.js';
import type { AccountProfile, LocationPrecision, ProfileChanges } from './account.js';
import type { AccountUpdate } from './accounts.table.js';
import { validEmail, validPhone } from './account.fields.js';
import { areaCodeOf, normaliseAddress, normaliseLanguage, normaliseName, normaliseTimeZone } from './account.normalise.js';
import { accountExists, type Accounts } from './accounts.service.js';
import { checkPassword, hashPassword } from './password.js';
import { isStepUpFresh, type AuthSession } from './session.js';
import type { Sessions } from './sessions.service.js';
import type { Outbox } from '../notices/outbox.service.js';
import { emailChangedMail } from '../notices/templates.js';
import * as repo from './accounts.repository.js';

/** Called inside the update's transaction when the location precision changes (the devices module coarsens stored locations). */
export type PrecisionListener = (trx: Transaction<Database>, ctx: ActorContext, subjectId: string, precision: LocationPrecision) => Promise<void>;

/**
 * `PATCH /v1/me`: validates every change first, then re-encrypts the changed fields, re-computes the
 * blind indexes, ZIP and area code, and audits the field NAMES, all in one transaction.
 * Changing the e-mail or phone (what sign-in and codes rely on) needs a fresh step-up; changing the
 * password needs the current one and signs out every other session.
 */
export class ProfileUpdater {
  readonly precisionListeners: PrecisionListener[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly vault: Vault,
    private readonly audit: AuditLog,
    private readonly policy: CompiledPolicy,
    private readonly accounts: Accounts,
    private readonly sessions: Sessions,
    private readonly outbox: Outbox,
  ) {}

  async update(ctx: ActorContext, session: AuthSession, changes: ProfileChanges): Promise<AccountProfile> {
    const subjectId = session.subjectId;
    if ((changes.email !== undefined || changes.phone !== undefined) && !isStepUpFresh(session, this.policy.requests.verificationWindowMs)) {
      throw new AppError('STEP_UP_REQUIRED', 'Changing the e-mail address or phone number needs a fresh verification (POST /v1/me/verify)');
    }
    if ((changes.newPassword === undefined) !== (changes.currentPassword === undefined)) throw errors.validation('A password change needs currentPassword and newPassword', { field: 'newPassword' });
    const current = await this.accounts.profile(this.db, subjectId, 'subject_rights');
    const values: Record<string, string | null> = {};
    const index: AccountUpdate = {};
    if (changes.name !== undefined) values.name = normaliseName(changes.name);
    if (changes.email !== undefined) {
      values.email = validEmail(changes.email);
      index.email_index = this.vault.blindIndex('email', values.email);
    }
    if (changes.phone !== undefined) {
      values.phone = validPhone(changes.phone, current.region);
      values.area_code = areaCodeOf(values.phone);
      index.phone_index = this.vault.blindIndex('phone', values.phone);
    }
    if (changes.postalAddress !== undefined) {
      const address = normaliseAddress(changes.postalAddress);
      values.postal_address = JSON.stringify(address);
      values.zip = address.postalCode ?? null;
    }
    if (changes.language !== undefined) values.language = normaliseLanguage(changes.language);
    if (changes.timeZone !== undefined) values.time_zone = normaliseTimeZone(changes.timeZone);
    if (changes.locationPrecision !== undefined) values.location_precision = changes.locationPrecision;
    if (changes.newPassword !== undefined && changes.currentPassword !== undefined) {
      checkPassword(changes.newPassword);
      await this.checkCurrentPassword(ctx, subjectId, changes.currentPassword);
      values.password_hash = await hashPassword(changes.newPassword);
    }
    const fields = Object.keys(values);
    if (fields.length === 0) return current;
    try {
      await this.db.transaction().execute(async (trx) => {
        const sealed = await this.vault.encryptFields(trx, subjectId, 'accounts', values);
        await repo.updateAccount(trx, subjectId, { ...(sealed as AccountUpdate), ...index, updated_at: new Date().toISOString() });
        if (values.password_hash !== undefined) await this.sessions.revokeOthers(trx, ctx, subjectId, session.id);
        if (values.email !== undefined && values.email !== current.email) {
          await this.outbox.enqueue(trx, { subjectId, purpose: 'verify_identity', kind: 'email_changed', message: emailChangedMail(current.email) });
        }
        if (changes.locationPrecision !== undefined && changes.locationPrecision !== current.locationPrecision) {
          for (const listener of this.precisionListeners) await listener(trx, ctx, subjectId, changes.locationPrecision);
        }
        await this.audit.append(trx, ctx, { action: 'account.updated', subjectId, purpose: 'provide_service', details: { fields } });
      });
    } catch (e) {
      throw mapDatabaseError(e, accountExists);
    }
    if (values.email !== undefined) this.outbox.kick();
    return this.accounts.profile(this.db, subjectId, 'subject_rights');
  }

  private async checkCurrentPassword(ctx: ActorContext, subjectId: string, password: string): Promise<void> {
    const key = `step_up:${subjectId}`;
    await this.sessions.throttle.attempt(key, ctx.ip);
    const row = await repo.findById(this.db, subjectId);
    if (!row || !(await this.sessions.passwordMatches(this.db, subjectId, row.password_hash, password))) {
      throw new AppError('VERIFICATION_FAILED', 'The current password is wrong', { field: 'currentPassword' });
    }
    await this.sessions.throttle.succeeded(key, ctx.ip);
  }
}
