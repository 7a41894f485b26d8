import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import { mapDatabaseError } from '../../internal/db/errors.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { ageThreshold } from '../policy/policy.compiler.js';
import type { Vault } from '../vault/vault.service.js';
import { DEFAULT_LOCATION_PRECISION, type AccountProfile, type LocationPrecision, type SignUpInput } from './account.js';
import { PROFILE_FIELDS, precisionOf, toProfile, validEmail, validPhone } from './account.fields.js';
import { ageOn, areaCodeOf, checkBirthDate, normaliseAddress, normaliseLanguage, normaliseName, normaliseRegion, normaliseTimeZone } from './account.normalise.js';
import { checkPassword, hashPassword } from './password.js';
import { asUser } from './sessions.service.js';
import * as repo from './accounts.repository.js';
import { accountCreatedEntry, newAccountRow } from './account-row.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Helper B's subject-status service, as far as sign-up needs it (R-KID-1). */
export interface ChildMarker {
  markChild(db: Db, ctx: ActorContext, subjectId: string, isChild: boolean): Promise<void>;
}

/** An account validated and normalised, with its blind indexes, ready to be sealed and written. */
export interface PreparedAccount {
  readonly values: Readonly<Record<(typeof PROFILE_FIELDS)[number], string | null>>;
  readonly isChild: boolean;
  readonly at: string;
  readonly emailIndex: string;
  readonly phoneIndex: string;
}

export const accountExists = (): AppError => new AppError('ACCOUNT_EXISTS', 'An account with this e-mail address or phone number exists');

/** Sign-up and profile reads (R-ACC-1). Every personal value goes into the vault; only blind indexes stay searchable. */
export class Accounts {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly vault: Vault,
    private readonly audit: AuditLog,
    private readonly policy: CompiledPolicy,
    private readonly children: ChildMarker | undefined,
  ) {}

  /** Validates and normalises everything first, hashes the password, then writes subject, row, child flag and audit in one transaction. */
  async signUp(ctx: ActorContext, input: SignUpInput): Promise<string> {
    checkPassword(input.password);
    const prepared = this.prepare(input, new Date());
    const passwordHash = await hashPassword(input.password);
    try {
      return await this.db.transaction().execute((trx) => this.insertPrepared(trx, ctx, prepared, passwordHash, 'self'));
    } catch (e) {
      throw mapDatabaseError(e, accountExists);
    }
  }

  /** Validation and normalisation shared by sign-up and `pledge import` (R-ACC-1); throws AppError, writes nothing. */
  prepare(input: Omit<SignUpInput, 'password'>, now: Date): PreparedAccount {
    const region = normaliseRegion(input.region);
    const email = validEmail(input.email);
    const phone = validPhone(input.phone, region);
    const address = normaliseAddress(input.postalAddress);
    const birthDate = checkBirthDate(input.birthDate, now);
    const values = {
      name: normaliseName(input.name),
      email,
      phone,
      postal_address: JSON.stringify(address),
      birth_date: birthDate,
      region,
      language: normaliseLanguage(input.language),
      time_zone: normaliseTimeZone(input.timeZone),
      zip: address.postalCode ?? null,
      area_code: areaCodeOf(phone),
      location_precision: DEFAULT_LOCATION_PRECISION,
    };
    const isChild = this.isChildAt(birthDate, region, now);
    return { values, isChild, at: now.toISOString(), emailIndex: this.vault.blindIndex('email', email), phoneIndex: this.vault.blindIndex('phone', phone) };
  }

  /** Subject, sealed row, child flag and audit entry, in the caller's transaction; `self`: the new user is the audit actor (sign-up). */
  async insertPrepared(trx: Transaction<Database>, ctx: ActorContext, p: PreparedAccount, passwordHash: string, actAs: 'self' | 'caller'): Promise<string> {
    // The key and the row in one statement on PostgreSQL (one round trip fewer per sign-up).
    const id = await this.vault.createSubjectWith(trx, ctx, 'account', async (subjectId) => {
      const sealed = await this.vault.encryptFields(trx, subjectId, 'accounts', { ...p.values, password_hash: passwordHash });
      return repo.insertAccountQuery(trx, newAccountRow(subjectId, p, sealed));
    });
    const actor = actAs === 'self' ? asUser(ctx, id) : ctx;
    if (p.isChild) await this.children?.markChild(trx, actor, id, true);
    await this.audit.append(trx, actor, accountCreatedEntry(id, p));
    return id;
  }

  /** R-KID-1: under the policy's age threshold for the region on `now` (sign-up, and a corrected birth date or region). */
  isChildAt(birthDate: string, region: string, now: Date): boolean {
    return ageOn(birthDate, now) < ageThreshold(this.policy, region);
  }

  /**
   * R-KID-1 after a correction of the birth date or region: the row's child flag and the subject status the decision
   * engine reads (which audits the change), in the caller's transaction.
   */
  async setChild(trx: Transaction<Database>, ctx: ActorContext, subjectId: string, isChild: boolean): Promise<void> {
    await repo.updateAccount(trx, subjectId, { is_child: isChild ? 1 : 0 });
    await this.children?.markChild(trx, ctx, subjectId, isChild);
  }

  /** The whole profile, decrypted for `purpose` (the holder's own view uses `subject_rights`). */
  async profile(db: Db, subjectId: string, purpose: string): Promise<AccountProfile> {
    const row = await repo.findById(db, subjectId);
    if (!row) throw errors.notFound('The account');
    const plain = await this.vault.decryptFields(db, subjectId, 'accounts', Object.fromEntries(PROFILE_FIELDS.map((f) => [f, row[f]])) as Record<(typeof PROFILE_FIELDS)[number], Buffer | null>, purpose);
    return toProfile(row, plain);
  }

  /** The account's location precision (R-CHO-3), for the devices module; `city` until the user chooses. */
  async locationPrecision(db: Db, subjectId: string): Promise<LocationPrecision> {
    const row = await repo.findById(db, subjectId);
    if (!row) throw errors.notFound('The account');
    return precisionOf(await this.vault.decrypt(db, subjectId, 'accounts', 'location_precision', row.location_precision, 'provide_service'));
  }

  /** The recipient address for a message, read for the message's purpose. */
  async emailOf(db: Db, subjectId: string, purpose: string): Promise<string> {
    const row = await repo.findById(db, subjectId);
    if (!row) throw errors.notFound('The account');
    return this.vault.decrypt(db, subjectId, 'accounts', 'email', row.email, purpose);
  }

  /**
   * Account erasure's purge (R-DSR-7), run after the key is shredded and the sessions ended: deletes the row,
   * already unreadable. Idempotent; the rights module audits the purge as a whole.
   */
  purgeSubject(db: Db, subjectId: string): Promise<number> {
    return repo.purgeSubject(db, subjectId);
  }
}
