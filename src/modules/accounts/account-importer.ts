import type { Kysely, Transaction } from 'kysely';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError } from '../../internal/errors/app-error.js';
import { mapDatabaseError } from '../../internal/db/errors.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { NewSubjects, Vault } from '../vault/vault.service.js';
import { PasswordSchema, SignUpBody } from './account.input.js';
import { accountExists, type Accounts, type ChildMarker, type PreparedAccount } from './accounts.service.js';
import type { NewAccountRow } from './accounts.table.js';
import { checkPassword, hashPassword } from './password.js';
import * as repo from './accounts.repository.js';
import { accountCreatedEntry, newAccountRow } from './account-row.js';

/** One line of `pledge import`: the sign-up body, with `password` or an argon2id `passwordHash` (imported as is). */
const ImportLine = Type.Composite([Type.Omit(SignUpBody, ['password']), Type.Object({ password: Type.Optional(PasswordSchema), passwordHash: Type.Optional(Type.String({ maxLength: 512 })) })], { additionalProperties: false });
type ImportLine = Static<typeof ImportLine>;
const KNOWN = new Set(Object.keys(ImportLine.properties));

/** Codes and line numbers only: a refused value is never echoed (it may be personal data). */
export interface ImportReport {
  imported: number;
  duplicates: number;
  readonly refused: { readonly line: number; readonly code: string }[];
}

export interface ImportOptions {
  readonly batchSize?: number;
  /** Called after each batch with the number of lines read so far. */
  readonly onProgress?: (handled: number) => void;
}

/** What the batch path needs besides sign-up's validation: the vault, the audit log and the child marker. */
export interface ImporterDeps {
  readonly vault: Vault;
  readonly audit: AuditLog;
  readonly children: ChildMarker | undefined;
}

interface Ready {
  readonly line: number;
  readonly prepared: PreparedAccount;
  readonly input: ImportLine;
}

/**
 * Bulk import (R-ACC-1) with sign-up's validation and sealing, written in batches: per batch one transaction
 * with one multi-row key-store insert (a DEK per subject all the same), multi-row account inserts and the
 * audit entries appended under one head lock, so a crash leaves whole batches only. An e-mail whose blind
 * index is already stored or earlier in the file counts as a duplicate, so re-running a file resumes it.
 * Clear passwords are hashed like sign-up (slow by design); `passwordHash` is the fast path.
 */
export class AccountImporter {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly accounts: Accounts,
    private readonly deps: ImporterDeps,
  ) {}

  /** Lines are read as they come (an array, or a stream such as `readline`): the file is never held whole. */
  async importLines(ctx: ActorContext, lines: Iterable<string> | AsyncIterable<string>, options: ImportOptions = {}): Promise<ImportReport> {
    // At most 5,000 lines a batch: one transaction, its rows and keys held in memory until it commits.
    const size = Math.min(MAX_BATCH, Math.max(1, options.batchSize ?? 500));
    const run = new ImportRun(this, ctx, options.onProgress);
    let batch: { readonly line: number; readonly text: string }[] = [];
    let read = 0;
    for await (const text of lines) {
      read += 1;
      if (text.trim() !== '') batch.push({ line: read, text });
      if (batch.length >= size) {
        await run.next(batch, read);
        batch = [];
      }
    }
    return run.finish(batch, read);
  }

  /** Validation and normalisation of one batch's lines (sign-up's rules); refusals go to the report. */
  prepareLines(lines: readonly { readonly line: number; readonly text: string }[], report: ImportReport): Ready[] {
    const now = new Date();
    const ready: Ready[] = [];
    for (const { line, text } of lines) {
      try {
        const input = parseLine(text);
        ready.push({ line, input, prepared: this.accounts.prepare(input, now) });
      } catch (e) {
        report.refused.push({ line, code: codeOf(e) });
      }
    }
    return ready;
  }

  /**
   * Sorts a batch against the store and the batch still being written: a stored or repeated e-mail is a
   * duplicate; a line that collides with the batch in flight is deferred to the next batch (that batch may
   * yet fail line by line); a stored phone or one claimed earlier in the batch is refused.
   */
  async sortOut(ready: readonly Ready[], inFlight: Claims, report: ImportReport): Promise<{ readonly accepted: Ready[]; readonly deferred: Ready[]; readonly claims: Claims }> {
    const claims: Claims = { emails: new Set(), phones: new Set() };
    if (ready.length === 0) return { accepted: [], deferred: [], claims };
    const taken = await repo.takenIndexes(this.db, ready.map((r) => r.prepared.emailIndex), ready.map((r) => r.prepared.phoneIndex));
    const accepted: Ready[] = [];
    const deferred: Ready[] = [];
    for (const r of ready) {
      const { emailIndex, phoneIndex } = r.prepared;
      if (taken.emails.has(emailIndex) || claims.emails.has(emailIndex)) report.duplicates += 1;
      // Decided once the batch in flight has committed, as if the file were read one batch at a time.
      else if (inFlight.emails.has(emailIndex) || inFlight.phones.has(phoneIndex)) deferred.push(r);
      else if (taken.phones.has(phoneIndex) || claims.phones.has(phoneIndex)) report.refused.push({ line: r.line, code: 'ACCOUNT_EXISTS' });
      else {
        // Only a line that will be written claims its e-mail and phone: a refused line must not hide a later good one.
        accepted.push(r);
        claims.emails.add(emailIndex);
        claims.phones.add(phoneIndex);
      }
    }
    return { accepted, deferred, claims };
  }

  /** Keys made and every field sealed in memory, before the batch's transaction opens. */
  async seal(ctx: ActorContext, batch: readonly Ready[]): Promise<SealedBatch> {
    const hashes = await Promise.all(batch.map((r) => (r.input.passwordHash !== undefined ? r.input.passwordHash : hashPassword(r.input.password ?? ''))));
    const { vault } = this.deps;
    const subjects = await vault.prepareSubjects('account', batch.length);
    const rows: NewAccountRow[] = [];
    for (const [i, r] of batch.entries()) {
      const p = r.prepared;
      const id = subjects.ids[i]!;
      const sealed = vault.sealPrepared(subjects, i, 'accounts', { ...p.values, password_hash: hashes[i]! });
      rows.push(newAccountRow(id, p, sealed));
    }
    return { ctx, batch, hashes, subjects, rows };
  }

  /** One transaction per batch; if it fails on a unique index (a concurrent sign-up), each line is retried alone. */
  async write(s: SealedBatch, report: ImportReport): Promise<void> {
    if (s.batch.length === 0) return;
    try {
      await this.db.transaction().execute((trx) => this.insertBatch(trx, s));
      report.imported += s.batch.length;
    } catch (e) {
      if (!(mapDatabaseError(e, accountExists) instanceof AppError) || s.batch.length === 1) throw mapDatabaseError(e, accountExists);
      for (const [i, r] of s.batch.entries()) {
        try {
          await this.db.transaction().execute((trx) => this.accounts.insertPrepared(trx, s.ctx, r.prepared, s.hashes[i]!, 'caller'));
          report.imported += 1;
        } catch (one) {
          report.refused.push({ line: r.line, code: codeOf(mapDatabaseError(one, accountExists)) });
        }
      }
    }
  }

  /** Keys, rows, child flags and audit entries of a whole batch, in one transaction: a crash leaves whole batches. */
  private async insertBatch(trx: Transaction<Database>, s: SealedBatch): Promise<void> {
    const { vault, audit, children } = this.deps;
    await vault.storeSubjects(trx, s.subjects);
    await repo.insertAccounts(trx, s.rows);
    for (const [i, r] of s.batch.entries()) if (r.prepared.isChild) await children?.markChild(trx, s.ctx, s.subjects.ids[i]!, true);
    await audit.appendMany(trx, s.ctx, s.batch.map((r, i) => accountCreatedEntry(s.subjects.ids[i]!, r.prepared)));
  }
}

const MAX_BATCH = 5000;

/** Blind indexes claimed by the lines of a batch that is being written. */
interface Claims {
  readonly emails: Set<string>;
  readonly phones: Set<string>;
}

interface SealedBatch {
  readonly ctx: ActorContext;
  readonly batch: readonly Ready[];
  readonly hashes: readonly string[];
  readonly subjects: NewSubjects;
  readonly rows: readonly NewAccountRow[];
}

/**
 * One import's pipeline: batch n+1 is validated, sorted and sealed (CPU) while batch n's transaction is with the
 * database, and at most one transaction is open at a time, so batches commit in file order.
 */
class ImportRun {
  readonly report: ImportReport = { imported: 0, duplicates: 0, refused: [] };
  private writing: Promise<void> = Promise.resolve();
  private inFlight: Claims = { emails: new Set(), phones: new Set() };
  private carried: Ready[] = [];

  constructor(
    private readonly importer: AccountImporter,
    private readonly ctx: ActorContext,
    private readonly onProgress: ((handled: number) => void) | undefined,
  ) {}

  async next(lines: readonly { readonly line: number; readonly text: string }[], read: number): Promise<void> {
    const ready = [...this.carried, ...this.importer.prepareLines(lines, this.report)];
    const { accepted, deferred, claims } = await this.importer.sortOut(ready, this.inFlight, this.report);
    const sealed = await this.importer.seal(this.ctx, accepted);
    await this.writing;
    this.onProgress?.(read - lines.length);
    this.carried = deferred;
    this.inFlight = claims;
    this.writing = this.importer.write(sealed, this.report);
    // A failed write surfaces at the next await of `writing`; until then it must not count as unhandled.
    this.writing.catch(() => undefined);
  }

  async finish(lines: readonly { readonly line: number; readonly text: string }[], read: number): Promise<ImportReport> {
    await this.next(lines, read);
    await this.writing;
    // Lines deferred behind the last batch: everything before them has committed now, so the store answers.
    while (this.carried.length > 0) {
      this.inFlight = { emails: new Set(), phones: new Set() };
      await this.next([], read);
      await this.writing;
    }
    this.onProgress?.(read);
    this.report.refused.sort((a, b) => a.line - b.line);
    return this.report;
  }
}


/** JSON, shape, and exactly one of `password` (checked like sign-up) or an argon2id PHC `passwordHash`. */
function parseLine(text: string): ImportLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('VALIDATION_FAILED', 'The line is not JSON');
  }
  if (value !== null && typeof value === 'object' && Object.keys(value).some((k) => !KNOWN.has(k))) throw new AppError('UNKNOWN_FIELD', 'The line has a field we do not accept');
  if (!Value.Check(ImportLine, value)) throw new AppError('VALIDATION_FAILED', 'The line does not match the account shape');
  if ((value.password === undefined) === (value.passwordHash === undefined)) throw new AppError('VALIDATION_FAILED', 'Give exactly one of password and passwordHash');
  if (value.password !== undefined) checkPassword(value.password);
  if (value.passwordHash !== undefined && !value.passwordHash.startsWith('$argon2id$')) throw new AppError('VALIDATION_FAILED', 'passwordHash must be an argon2id PHC string');
  return value;
}

const codeOf = (e: unknown): string => {
  if (e instanceof AppError) return e.code;
  throw e;
};
