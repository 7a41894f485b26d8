import type { Kysely } from 'kysely';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Database } from '../../internal/db/database.js';
import type { ActorContext } from '../../internal/context.js';
import { AppError } from '../../internal/errors/app-error.js';
import { mapDatabaseError } from '../../internal/db/errors.js';
import { PasswordSchema, SignUpBody } from './account.input.js';
import { accountExists, type Accounts, type PreparedAccount } from './accounts.service.js';
import { checkPassword, hashPassword } from './password.js';

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
  readonly onProgress?: (handled: number) => void;
}

interface Ready {
  readonly line: number;
  readonly prepared: PreparedAccount;
  readonly input: ImportLine;
}

/**
 * Bulk import (R-ACC-1) through the same validation, sealing and audit as sign-up. Batches of `batchSize` lines
 * are written in one transaction each; an e-mail whose blind index already exists counts as a duplicate, so
 * re-running a file resumes it. Clear passwords are hashed like sign-up (slow by design); `passwordHash` is the fast path.
 */
export class AccountImporter {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly accounts: Accounts,
  ) {}

  async importLines(ctx: ActorContext, lines: readonly string[], options: ImportOptions = {}): Promise<ImportReport> {
    const size = Math.max(1, options.batchSize ?? 500);
    const report: ImportReport = { imported: 0, duplicates: 0, refused: [] };
    for (let start = 0; start < lines.length; start += size) {
      const ready: Ready[] = [];
      lines.slice(start, start + size).forEach((text, i) => {
        if (text.trim() === '') return;
        const line = start + i + 1;
        try {
          const input = parseLine(text);
          ready.push({ line, input, prepared: this.accounts.prepare(input, new Date()) });
        } catch (e) {
          report.refused.push({ line, code: codeOf(e) });
        }
      });
      await this.writeBatch(ctx, await this.withoutExisting(ready, report), report);
      options.onProgress?.(Math.min(lines.length, start + size));
    }
    return report;
  }

  /** Drops e-mails already stored or repeated in the file (duplicates) and phones held by another e-mail (refused). */
  private async withoutExisting(ready: readonly Ready[], report: ImportReport): Promise<Ready[]> {
    if (ready.length === 0) return [];
    const found = await this.db.selectFrom('accounts').select(['email_index', 'phone_index'])
      .where((eb) => eb.or([eb('email_index', 'in', ready.map((r) => r.prepared.emailIndex)), eb('phone_index', 'in', ready.map((r) => r.prepared.phoneIndex))]))
      .execute();
    const emails = new Set(found.map((f) => f.email_index));
    const phones = new Set(found.map((f) => f.phone_index));
    const out: Ready[] = [];
    for (const r of ready) {
      if (emails.has(r.prepared.emailIndex)) report.duplicates += 1;
      else if (phones.has(r.prepared.phoneIndex)) report.refused.push({ line: r.line, code: 'ACCOUNT_EXISTS' });
      else out.push(r);
      emails.add(r.prepared.emailIndex);
      phones.add(r.prepared.phoneIndex);
    }
    return out;
  }

  /** One transaction per batch; if it fails on a unique index (a concurrent sign-up), each line is retried alone. */
  private async writeBatch(ctx: ActorContext, batch: readonly Ready[], report: ImportReport): Promise<void> {
    if (batch.length === 0) return;
    const hashes = await Promise.all(batch.map((r) => (r.input.passwordHash !== undefined ? r.input.passwordHash : hashPassword(r.input.password ?? ''))));
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const [i, r] of batch.entries()) await this.accounts.insertPrepared(trx, ctx, r.prepared, hashes[i]!, 'caller');
      });
      report.imported += batch.length;
    } catch (e) {
      if (!(mapDatabaseError(e, accountExists) instanceof AppError) || batch.length === 1) throw mapDatabaseError(e, accountExists);
      for (const [i, r] of batch.entries()) {
        try {
          await this.db.transaction().execute((trx) => this.accounts.insertPrepared(trx, ctx, r.prepared, hashes[i]!, 'caller'));
          report.imported += 1;
        } catch (one) {
          report.refused.push({ line: r.line, code: codeOf(mapDatabaseError(one, accountExists)) });
        }
      }
    }
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
