import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { sql } from 'kysely';
import type { EngineKind } from '../../src/internal/db/engine.js';
import type { TestStack } from './engines.js';
import { PG_URL, tmpDir, withAdmin } from './engines.js';

/** A backup of the data store as an operator takes it: `VACUUM INTO` on SQLite, `pg_dump` of the schema on PostgreSQL. */
export async function backupDataStore(stack: TestStack): Promise<string> {
  const file = path.join(tmpDir(), stack.kind === 'sqlite' ? 'backup.db' : 'backup.sql');
  if (stack.kind === 'sqlite') await sql`VACUUM main INTO ${file}`.execute(stack.services.engine.db);
  else execFileSync('pg_dump', ['-d', PG_URL, '-n', stack.schema!, '-f', file]);
  return file;
}

/** Disaster recovery: the data store (only) is replaced by the backup, beside the current key ring and key store. */
export async function restoreDataStore(kind: EngineKind, backup: string, target: { readonly dataDir: string; readonly schema: string | undefined }): Promise<void> {
  if (kind === 'sqlite') {
    for (const f of ['pledge.db', 'pledge.db-wal', 'pledge.db-shm']) fs.rmSync(path.join(target.dataDir, f), { force: true });
    fs.copyFileSync(backup, path.join(target.dataDir, 'pledge.db'));
  } else {
    await withAdmin((c) => c.query(`DROP SCHEMA ${target.schema} CASCADE`));
    execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-d', PG_URL, '-f', backup], { stdio: 'pipe' });
  }
}
