import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { PreparedWrite } from '../../internal/db/prepared-write.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import { mapDatabaseError } from '../../internal/db/errors.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { Vault } from '../vault/vault.service.js';
import type { TObject } from '@sinclair/typebox';
import type { AccountProfile, LocationPrecision, ProfileChanges } from './account.js';
import { PostalAddressSchema } from './account.input.js';
import type { AccountUpdate } from './accounts.table.js';
import { validEmail, validPhone } from './account.fields.js';
import { areaCodeOf, checkBirthDate, normaliseAddress, normaliseLanguage, normaliseName, normaliseRegion, normaliseTimeZone } from './account.normalise.js';
import { accountExists, type Accounts } from './accounts.service.js';
import { checkPassword, hashPassword } from './password.js';
import { isStepUpFresh, type AuthSession } from './session.js';
import type { Sessions } from './sessions.service.js';
import type { Outbox } from '../notices/outbox.service.js';
import { emailChangedMail } from '../notices/templates.js';
import * as repo from './accounts.repository.js';

/** What a correction filed as a rights request may change (R-DSR-1): the profile fields, the birth date and the region. */
export interface AccountCorrection extends Omit<ProfileChanges, 'locationPrecision' | 'currentPassword' | 'newPassword'> {
  readonly birthDate?: string | undefined;
  readonly region?: string | undefined;
}

const ADDRESS = 'postalAddress.';
const optionalKeys = (schema: TObject): string[] => Object.keys(schema.properties).filter((k) => !(schema.required ?? []).includes(k));

/**
 * R-DSR-2, part: the parts of an account a person may erase on their own are the ones sign-up does not require.
 * What sign-up requires, the account needs: the e-mail and phone are logins and unique blind indexes (NOT NULL
 * columns), the birth date and region decide R-KID-1. `SignUpBody` requires every top-level field (the erase-fields
 * test holds the two lists together), so what may go are the optional keys of its postal address schema.
 */
export const ERASABLE_ACCOUNT_PARTS: ReadonlySet<string> = new Set(optionalKeys(PostalAddressSchema).map((k) => `${ADDRESS}${k}`));

const fieldRequired = (part: string): AppError =>
  new AppError('FIELD_REQUIRED', 'The account needs this field (sign-up requires it): correct it, or erase the whole account', { field: part });

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
    const change = await this.prepare(ctx, current, changes, session.id);
    if (change.fields.length === 0) return current;
    try {
      await this.db.transaction().execute((trx) => change.write(trx, ctx));
    } catch (e) {
      throw mapDatabaseError(e, accountExists);
    }
    change.afterCommit?.();
    return this.accounts.profile(this.db, subjectId, 'subject_rights');
  }

  /**
   * R-DSR-1: a correction filed as a rights request, checked and normalised like `PATCH /v1/me` (plus the birth date
   * and region, which decide the child flag again: R-KID-1) and returned ready to be written in the rights module's
   * transaction with the other corrections of the request. The rights service has already checked the step-up.
   */
  async prepareCorrection(ctx: ActorContext, subjectId: string, changes: AccountCorrection): Promise<PreparedWrite> {
    return this.prepare(ctx, await this.accounts.profile(this.db, subjectId, 'subject_rights'), changes, undefined);
  }

  /**
   * R-DSR-2, part: erases optional parts of the account (`ERASABLE_ACCOUNT_PARTS`) and what is derived from them (the
   * ZIP from the postal code), re-sealing the address without them; audited with the part names only. Anything the
   * account needs is refused with FIELD_REQUIRED. Erasing a part that is already absent changes nothing else.
   */
  async eraseParts(ctx: ActorContext, subjectId: string, parts: readonly string[]): Promise<void> {
    const needed = parts.find((p) => !ERASABLE_ACCOUNT_PARTS.has(p));
    if (needed !== undefined) throw fieldRequired(needed);
    // The address is rewritten whole: read in the transaction and written only if the account is unchanged since, so
    // an address change landing in between is never overwritten with the old address; the erasure is then applied to
    // the new address (a few tries), and only a store changing faster than that answers CONFLICT.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.erasePartsOnce(ctx, subjectId, parts);
      } catch (e) {
        if (!(e instanceof AppError && e.code === 'CONFLICT') || attempt === 3) throw e;
      }
    }
  }

  private async erasePartsOnce(ctx: ActorContext, subjectId: string, parts: readonly string[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const current = await this.accounts.profile(trx, subjectId, 'subject_rights');
      const address: Record<string, unknown> = { ...current.postalAddress };
      for (const part of parts) delete address[part.slice(ADDRESS.length)];
      const values: Record<string, string | null> = { postal_address: JSON.stringify(address) };
      if (parts.includes(`${ADDRESS}postalCode`)) values.zip = null;
      const sealed = await this.vault.encryptFields(trx, subjectId, 'accounts', values);
      const written = await repo.updateAccountIfUnchanged(trx, subjectId, current.updatedAt, { ...(sealed as AccountUpdate), updated_at: new Date().toISOString() });
      if (!written) throw new AppError('CONFLICT', 'The account kept changing while its fields were being erased; try again in a moment');
      await this.audit.append(trx, ctx, { action: 'account.parts_erased', subjectId, purpose: 'subject_rights', details: { fields: [...parts] } });
    });
  }

  /** Validates and normalises every change (reads included) before anything is written; the writer runs in a transaction of the caller's. */
  private async prepare(ctx: ActorContext, current: AccountProfile, changes: ProfileChanges & AccountCorrection, sessionId: string | undefined): Promise<PreparedWrite> {
    const subjectId = current.id;
    const now = new Date();
    const values: Record<string, string | null> = {};
    const index: AccountUpdate = {};
    if (changes.name !== undefined) values.name = normaliseName(changes.name);
    if (changes.region !== undefined) values.region = normaliseRegion(changes.region);
    if (changes.birthDate !== undefined) values.birth_date = checkBirthDate(changes.birthDate, now);
    if (changes.email !== undefined) {
      values.email = validEmail(changes.email);
      index.email_index = this.vault.blindIndex('email', values.email);
    }
    if (changes.phone !== undefined) {
      // A national number is read in the account's region: the corrected one when the same change brings it.
      values.phone = validPhone(changes.phone, values.region ?? current.region);
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
    // R-KID-1: a new birth date or region decides the child flag again, with the policy's threshold for the region.
    const child = values.birth_date !== undefined || values.region !== undefined ? this.accounts.isChildAt(values.birth_date ?? current.birthDate, values.region ?? current.region, now) : undefined;
    const fields = Object.keys(values);
    return {
      fields,
      write: async (trx, actor) => {
        try {
          const sealed = await this.vault.encryptFields(trx, subjectId, 'accounts', values);
          await repo.updateAccount(trx, subjectId, { ...(sealed as AccountUpdate), ...index, updated_at: new Date().toISOString() });
        } catch (e) {
          // A taken e-mail or phone is the engine's unique index answering; the caller's transaction rolls back.
          throw mapDatabaseError(e, accountExists);
        }
        if (values.password_hash !== undefined && sessionId !== undefined) await this.sessions.revokeOthers(trx, actor, subjectId, sessionId);
        if (values.email !== undefined && values.email !== current.email) {
          await this.outbox.enqueue(trx, { subjectId, purpose: 'verify_identity', kind: 'email_changed', message: emailChangedMail(current.email) });
        }
        if (changes.locationPrecision !== undefined && changes.locationPrecision !== current.locationPrecision) {
          for (const listener of this.precisionListeners) await listener(trx, actor, subjectId, changes.locationPrecision);
        }
        if (child !== undefined && child !== current.isChild) await this.accounts.setChild(trx, actor, subjectId, child);
        await this.audit.append(trx, actor, { action: 'account.updated', subjectId, purpose: 'provide_service', details: { fields, ...(child === undefined ? {} : { child }) } });
      },
      afterCommit: () => {
        if (values.email !== undefined) this.outbox.kick();
      },
    };
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
