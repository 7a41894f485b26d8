import fs from 'node:fs';
import path from 'node:path';
import type { ActorContext } from '../../internal/context.js';
import { AppError, errors } from '../../internal/errors/app-error.js';
import type { RightsDeps } from './rights.deps.js';
import * as repo from './rights.repository.js';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';

type Db = Kysely<Database> | Transaction<Database>;

export type ExportFormat = 'json' | 'html';

/** Where export files live: inside the data directory, never served statically. */
export const exportDir = (deps: RightsDeps): string => path.join(deps.config.dataDir, 'exports');

/**
 * Deletes every file of one export request (`<request id>-<random>.json|html`), but `keep`: the files of runs that
 * were cut short are found by the request id, not only through the name the row records. Returns how many.
 */
export function removeExportFiles(dir: string, requestId: string, keep?: string): number {
  if (!fs.existsSync(dir)) return 0;
  const prefix = `${requestId}-`;
  let removed = 0;
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(prefix) || (keep !== undefined && name.startsWith(`${keep}.`))) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed++;
  }
  return removed;
}

/** Export downloads (R-DSR-6): only the person's own, only until the link expires; then the files are deleted. */
export class ExportFiles {
  constructor(private readonly deps: RightsDeps) {}

  /** A readable stream of the person's export, or NOT_FOUND / EXPORT_EXPIRED. Each download is audited. */
  async open(ctx: ActorContext, subjectId: string, requestId: string, format: ExportFormat): Promise<fs.ReadStream> {
    const row = await repo.requestById(this.deps.db, requestId);
    if (!row || row.subject_id !== subjectId || row.type !== 'export' || row.status !== 'completed') throw errors.notFound('The export');
    if (!row.export_file || !row.export_expires_at || row.export_expires_at <= new Date().toISOString()) throw new AppError('EXPORT_EXPIRED');
    const file = path.join(exportDir(this.deps), `${row.export_file}.${format}`);
    if (!fs.existsSync(file)) throw new AppError('EXPORT_EXPIRED');
    await this.deps.audit.append(this.deps.db, ctx, { action: 'rights.export_downloaded', subjectId, target: requestId, details: { format } });
    return fs.createReadStream(file);
  }

  /**
   * The sweep: deletes export files whose link has expired and forgets their names. Registered with the
   * retention sweeper (which passes its own transaction) and run by `pledge rights sweep-exports`.
   */
  async sweep(ctx: ActorContext, now = new Date(), db: Db = this.deps.db): Promise<number> {
    const due = await repo.expiredExports(db, now.toISOString());
    for (const row of due) {
      removeExportFiles(exportDir(this.deps), row.id);
      await repo.updateRequest(db, row.id, { export_file: null });
      await this.deps.audit.append(db, ctx, { action: 'rights.export_deleted', subjectId: row.subject_id, target: row.id });
    }
    return due.length;
  }
}

/**
 * Account erasure: export files are plaintext copies outside the vault, so crypto-shredding does not reach them;
 * they are deleted at once instead of at the end of their link's life. Idempotent.
 */
export async function deleteExportsOf(deps: RightsDeps, subjectId: string): Promise<number> {
  // Every export request of the person, recorded file or not: a run cut short leaves files the row does not name.
  const rows = (await repo.requestsOf(deps.db, subjectId)).filter((r) => r.type === 'export');
  let removed = 0;
  for (const row of rows) {
    removed += removeExportFiles(exportDir(deps), row.id);
    if (row.export_file !== null) await repo.updateRequest(deps.db, row.id, { export_file: null });
  }
  return removed;
}
