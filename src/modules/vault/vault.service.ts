import { randomUUID } from 'node:crypto';
import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import { nowIso } from '../../internal/db/columns.js';
import { AppError } from '../../internal/errors/app-error.js';
import { systemContext, type ActorContext } from '../../internal/context.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { categoryOfField } from '../policy/classifier.js';
import type { DecisionGate } from '../consent/decision.js';
import type { AuditLog } from '../audit/audit.service.js';
import { dekContext, type BlindIndexKind, type KekVersionInfo, type KeyProvider, type SubjectKind } from './vault.js';
import { blindIndexOf } from './blind-index.js';
import { DekCache } from './dek-cache.js';
import { openField, sealField } from './field-cipher.js';
import { randomKey256 } from './nonce-pool.js';
import type { KeyStore } from './key-store.js';
import type { NewVaultKeyRow } from './vault.table.js';
import { rotateKeys, type RotationOptions, type RotationResult } from './key-rotation.js';
import { UNCLAIMED_KEY_GRACE_MS, type KeyMaker, type KeyReserve } from './key-reserve.js';

type Db = Kysely<Database> | Transaction<Database>;

export { normaliseEmail, normalisePhone } from './blind-index.js';
export { PolicyOnlyGate } from './policy-only-gate.js';
export type { BlindIndexKind, KeyProvider, SubjectKind } from './vault.js';

/** Subjects made by `prepareSubjects`: their ids and wrapped keys, not yet in the key store. */
export interface NewSubjects {
  readonly ids: readonly string[];
  readonly keys: readonly NewVaultKeyRow[];
}

export interface VaultOptions {
  readonly policy: CompiledPolicy;
  readonly keys: KeyProvider;
  readonly gate: DecisionGate;
  readonly audit: AuditLog;
  readonly keyStore: KeyStore;
  /** SQLite: keys committed ahead in batches (key-reserve.ts); set by `openVault`. */
  readonly reserve?: (makeKey: KeyMaker) => KeyReserve;
}

/**
 * The vault: the only code that sees a data key (R-SEC-4, R-DSR-7). Each subject has its own random
 * 256-bit DEK, kept only wrapped by a KEK in the key store; fields are AES-256-GCM sealed and bound to
 * (table, field, subject, key version). Reads go through `decrypt*`, which ask the decision gate first (R-USE-1).
 *
 * @example
 * const id = await vault.createSubject(trx, ctx, 'account');
 * const sealed = await vault.encrypt(trx, id, 'accounts', 'email', 'ana@example.org');
 * await vault.decrypt(db, id, 'accounts', 'email', sealed, 'provide_service'); // 'ana@example.org'
 */
export class Vault {
  private readonly cache = new DekCache();
  /** Plain keys of prepared batches, held only as long as the batch object is (see `sealPrepared`). */
  private readonly prepared = new WeakMap<NewSubjects, readonly Buffer[]>();
  /** SQLite only: keys made ahead (see key-reserve.ts). */
  readonly reserve: KeyReserve | undefined;
  constructor(private readonly o: VaultOptions) {
    this.reserve = o.reserve?.((kind) => this.newKey(kind));
  }

  get keyStore(): KeyStore {
    return this.o.keyStore;
  }

  /** A new subject with a fresh DEK, in the caller's transaction (the caller audits what the subject is for: account.created…). */
  async createSubject(db: Db, _ctx: ActorContext, kind: SubjectKind): Promise<string> {
    const reserved = this.claimReserved(db, kind);
    if (reserved !== undefined) return reserved;
    const { subjectId, dek, row } = await this.newKey(kind);
    await this.o.keyStore.insertKey(db, row);
    this.cache.set(subjectId, { dek, dekVersion: 1 });
    return subjectId;
  }

  /**
   * A new subject together with the caller's first row of it (e.g. the account row): `firstRow` gets the new
   * id, may seal fields for it (its key is already usable), and returns the row's insert, which is written
   * with the key in one statement on PostgreSQL (one round trip fewer per subject); both or neither are stored.
   *
   * @example
   * await vault.createSubjectWith(trx, ctx, 'account', async (id) =>
   *   trx.insertInto('accounts').values({ subject_id: id, ...(await vault.encryptFields(trx, id, 'accounts', values)) }).compile());
   */
  async createSubjectWith(db: Transaction<Database>, _ctx: ActorContext, kind: SubjectKind, firstRow: (subjectId: string) => CompiledQuery | Promise<CompiledQuery>): Promise<string> {
    const reserved = this.claimReserved(db, kind);
    if (reserved !== undefined) {
      await db.executeQuery(await firstRow(reserved));
      return reserved;
    }
    const { subjectId, dek, row } = await this.newKey(kind);
    this.cache.set(subjectId, { dek, dekVersion: 1 });
    await this.o.keyStore.insertKeyWith(db, row, await firstRow(subjectId));
    return subjectId;
  }

  /** A reserved key claimed in the caller's transaction (SQLite), cached unwrapped for the subject's first fields. */
  private claimReserved(db: Db, kind: SubjectKind): string | undefined {
    if (!this.reserve || !db.isTransaction) return undefined;
    const key = this.reserve.claim(kind, nowIso());
    if (!key) return undefined;
    this.cache.set(key.subjectId, { dek: key.dek, dekVersion: 1 });
    return key.subjectId;
  }

  /** A fresh DEK, wrapped for its new subject id (the key row is the caller's to store). */
  private async newKey(kind: SubjectKind): Promise<{ readonly subjectId: string; readonly dek: Buffer; readonly row: NewVaultKeyRow }> {
    const subjectId = randomUUID();
    const dek = randomKey256();
    const { wrapped, kekVersion } = await this.o.keys.wrap(dek, dekContext(subjectId));
    return { subjectId, dek, row: { subject_id: subjectId, kind, wrapped_dek: wrapped, kek_version: kekVersion, created_at: nowIso(), shredded_at: null } };
  }

  /** Retention: removes reserved keys that no subject claimed (they wrap no data), a day after they were made. */
  async sweepUnclaimedKeys(db: Db, now: Date): Promise<number> {
    return this.o.keyStore.dropUnclaimedReserved(db, new Date(now.getTime() - UNCLAIMED_KEY_GRACE_MS).toISOString());
  }

  /** Stops the reserve's refills (shutdown); keys not handed out are wiped from memory. */
  async stop(): Promise<void> {
    await this.reserve?.stop();
  }

  /**
   * `n` new subjects of one kind, in the caller's transaction, with one multi-row key-store insert (bulk import).
   * Each still gets its own random DEK, wrapped and bound to its id exactly as `createSubject` does.
   */
  async createSubjects(db: Db, _ctx: ActorContext, kind: SubjectKind, n: number): Promise<string[]> {
    const batch = await this.prepareSubjects(kind, n);
    await this.storeSubjects(db, batch);
    return [...batch.ids];
  }

  /**
   * `n` new subjects whose keys exist only in memory yet: their fields can be sealed at once (before the
   * transaction, so a bulk writer keeps its transaction short), and `storeSubjects` must write them in the
   * same transaction as those fields. Only wrapped keys leave the vault.
   */
  async prepareSubjects(kind: SubjectKind, n: number): Promise<NewSubjects> {
    const ids: string[] = [];
    const keys: NewVaultKeyRow[] = [];
    const deks: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const { subjectId, dek, row } = await this.newKey(kind);
      ids.push(subjectId);
      keys.push(row);
      deks.push(dek);
    }
    const batch = { ids, keys };
    this.prepared.set(batch, deks);
    return batch;
  }

  /**
   * Seals fields of the `index`-th subject of a prepared batch with the key made for it. Not through the key
   * cache: on a busy server other subjects' keys may evict a prepared key before its row is sealed, and the key
   * store does not hold it yet.
   */
  sealPrepared<K extends string>(batch: NewSubjects, index: number, table: string, values: Readonly<Record<K, string | null | undefined>>): Record<K, Buffer | null> {
    const dek = this.prepared.get(batch)?.[index];
    const subjectId = batch.ids[index];
    if (!dek || subjectId === undefined) throw new AppError('INTERNAL', 'Not a subject of a batch prepared by this vault');
    const names = Object.keys(values) as K[];
    for (const field of names) categoryOfField(this.o.policy, table, field);
    const out = {} as Record<K, Buffer | null>;
    for (const field of names) {
      const v = values[field];
      out[field] = v === null || v === undefined ? null : sealField(dek, { table, field, subjectId, dekVersion: 1 }, v);
    }
    return out;
  }

  /** Writes prepared subjects' wrapped keys to the key store, in the caller's transaction (one multi-row insert). */
  async storeSubjects(db: Db, batch: NewSubjects): Promise<void> {
    await this.o.keyStore.insertKeys(db, batch.keys);
  }

  /** Seals one field (R-CLS-1: the field must be declared in the policy). */
  async encrypt(db: Db, subjectId: string, table: string, field: string, plaintext: string): Promise<Buffer> {
    categoryOfField(this.o.policy, table, field);
    const key = await this.dataKey(db, subjectId);
    return sealField(key.dek, { table, field, subjectId, dekVersion: key.dekVersion }, plaintext);
  }

  /** Seals several fields of one subject with one key look-up; null/undefined stay null. */
  async encryptFields<K extends string>(db: Db, subjectId: string, table: string, values: Readonly<Record<K, string | null | undefined>>): Promise<Record<K, Buffer | null>> {
    const names = Object.keys(values) as K[];
    for (const field of names) categoryOfField(this.o.policy, table, field);
    const key = await this.dataKey(db, subjectId);
    const out = {} as Record<K, Buffer | null>;
    for (const field of names) {
      const v = values[field];
      out[field] = v === null || v === undefined ? null : sealField(key.dek, { table, field, subjectId, dekVersion: key.dekVersion }, v);
    }
    return out;
  }

  /** The one read path: allowed only when the decision gate says yes for the field's category and this purpose. */
  async decrypt(db: Db, subjectId: string, table: string, field: string, ciphertext: Buffer, purpose: string): Promise<string> {
    await this.authorise(db, subjectId, categoryOfField(this.o.policy, table, field), purpose);
    const key = await this.dataKey(db, subjectId);
    return openField(key.dek, { table, field, subjectId, dekVersion: key.dekVersion }, ciphertext);
  }

  /** Opens several fields of one subject for one purpose: one decision per category, one key unwrap. */
  async decryptFields<K extends string>(db: Db, subjectId: string, table: string, fields: Readonly<Record<K, Buffer | null | undefined>>, purpose: string): Promise<Record<K, string | null>> {
    const names = Object.keys(fields) as K[];
    const categories = new Set(names.map((f) => categoryOfField(this.o.policy, table, f)));
    for (const category of categories) await this.authorise(db, subjectId, category, purpose);
    const out = {} as Record<K, string | null>;
    if (names.every((f) => fields[f] === null || fields[f] === undefined)) {
      for (const f of names) out[f] = null;
      return out;
    }
    const key = await this.dataKey(db, subjectId);
    for (const field of names) {
      const c = fields[field];
      out[field] = c === null || c === undefined ? null : openField(key.dek, { table, field, subjectId, dekVersion: key.dekVersion }, c);
    }
    return out;
  }

  /**
   * Seals a secret of Pledge's own (a signing key, not personal data) under a fresh key of kind `service` in the
   * key store: a stolen data store or backup does not reveal it, and `keys rotate` re-wraps its key with every
   * other. Not a person's data, so no policy category and no decision: only the service that stored it opens it.
   */
  async sealServiceSecret(db: Kysely<Database>, name: string, plaintext: string): Promise<{ readonly keyId: string; readonly sealed: Buffer }> {
    const keyId = await this.createSubject(db, systemContext('vault'), 'service');
    const key = await this.dataKey(db, keyId);
    return { keyId, sealed: sealField(key.dek, { table: SERVICE_SECRETS, field: name, subjectId: keyId, dekVersion: key.dekVersion }, plaintext) };
  }

  /** Opens what `sealServiceSecret` sealed; a value moved to another key or name fails to open. */
  async openServiceSecret(db: Kysely<Database>, keyId: string, name: string, sealed: Buffer): Promise<string> {
    const key = await this.dataKey(db, keyId);
    return openField(key.dek, { table: SERVICE_SECRETS, field: name, subjectId: keyId, dekVersion: key.dekVersion }, sealed);
  }

  /** Keyed blind index (HMAC-SHA256) of a normalised e-mail or E.164 phone, for lookup and uniqueness. */
  blindIndex(kind: BlindIndexKind, value: string, defaultRegion?: string): string {
    return blindIndexOf(this.o.keys.indexKey(), kind, value, defaultRegion);
  }

  /**
   * Crypto-shred (R-DSR-7): destroys the subject's DEK in the key store, so every ciphertext of the subject,
   * in this store and in any backup of it, stays sealed for good. Audited; idempotent.
   */
  async shred(db: Db, ctx: ActorContext, subjectId: string): Promise<{ readonly alreadyShredded: boolean }> {
    if (!db.isTransaction) {
      const result = await (db as Kysely<Database>).transaction().execute((trx) => this.shred(trx, ctx, subjectId));
      // A caller without a transaction returns with the key file's WAL already clean (the shred queued it).
      await this.o.keyStore.compacted();
      return result;
    }
    const subject = await this.o.keyStore.findKey(db, subjectId);
    if (!subject) throw new AppError('NOT_FOUND', 'No such subject in the vault');
    this.cache.forget(subjectId);
    if (!(await this.o.keyStore.destroyKey(db, subjectId, nowIso()))) return { alreadyShredded: true };
    // SQLite: the key's old page image leaves the key file's WAL once this transaction ends.
    this.o.keyStore.compactSoon();
    await this.o.audit.append(db, ctx, { action: 'vault.subject_shredded', subjectId, details: { kind: subject.kind } });
    return { alreadyShredded: false };
  }

  /** True when the subject's key is gone (shredded here, or a restored backup whose key was shredded since). */
  async isShredded(db: Db, subjectId: string): Promise<boolean> {
    return ((await this.o.keyStore.findKey(db, subjectId))?.wrapped_dek ?? null) === null;
  }

  /** `pledge keys rotate`: new KEK version, every DEK re-wrapped in batches, old versions retired. Resumable. */
  async rotateKeys(db: Kysely<Database>, ctx: ActorContext, options?: RotationOptions): Promise<RotationResult> {
    return rotateKeys({ db, keys: this.o.keys, keyStore: this.o.keyStore, audit: this.o.audit, ctx }, options);
  }

  /** KEK versions and how many DEKs each still wraps (`pledge keys status`). */
  async keyStatus(db: Kysely<Database>): Promise<{ readonly provider: string; readonly versions: readonly (KekVersionInfo & { readonly keys: number })[] }> {
    const counts = await this.o.keyStore.countByVersion(db);
    const versions = (await this.o.keys.versions()).map((v) => ({ ...v, keys: counts.get(v.version) ?? 0 }));
    return { provider: this.o.keys.description, versions };
  }

  /** Forgets every unwrapped DEK held in memory (after a rotation, in tests, on shutdown). */
  forgetKeys(): void {
    this.cache.clear();
  }

  private async authorise(db: Db, subjectId: string, category: string, purpose: string): Promise<void> {
    const decision = await this.o.gate.decide({ subjectId, category, purpose }, db);
    if (decision.allow) return;
    if (decision.reason === 'SUBJECT_ERASED') throw erased();
    throw new AppError('PURPOSE_DENIED', `Using ${category} for ${purpose} is not allowed (${decision.reason})`, { reason: decision.reason, category, purpose });
  }

  private async dataKey(db: Db, subjectId: string): Promise<{ readonly dek: Buffer; readonly dekVersion: number }> {
    const hit = this.cache.get(subjectId);
    if (hit) return hit;
    const row = await this.o.keyStore.findKey(db, subjectId);
    if (!row || row.wrapped_dek === null || row.kek_version === null) throw erased();
    const dek = await this.o.keys.unwrap(row.wrapped_dek, row.kek_version, dekContext(subjectId));
    const entry = { dek, dekVersion: row.dek_version };
    this.cache.set(subjectId, entry);
    return entry;
  }
}

/** The associated-data table name of service secrets: never a policy table, so never confused with personal fields. */
const SERVICE_SECRETS = 'pledge_service_secrets';

const erased = (): AppError => new AppError('SUBJECT_ERASED', 'The data of this person has been erased');
